"""The OCPP 1.6J route table: one line per action the central system answers."""

from __future__ import annotations

from chargewise.handlers.context import Handler
from chargewise.handlers.v16 import (
    authorize,
    boot_notification,
    data_transfer,
    diagnostics_status_notification,
    firmware_status_notification,
    heartbeat,
    log_status_notification,
    meter_values,
    security_event_notification,
    sign_certificate,
    start_transaction,
    status_notification,
    stop_transaction,
)


def routes() -> dict[str, Handler]:
    return {
        "BootNotification": boot_notification.handle,
        "Heartbeat": heartbeat.handle,
        "StatusNotification": status_notification.handle,
        "Authorize": authorize.handle,
        "StartTransaction": start_transaction.handle,
        "StopTransaction": stop_transaction.handle,
        "MeterValues": meter_values.handle,
        "DataTransfer": data_transfer.handle,
        "FirmwareStatusNotification": firmware_status_notification.handle,
        "DiagnosticsStatusNotification": diagnostics_status_notification.handle,
        "SecurityEventNotification": security_event_notification.handle,
        "LogStatusNotification": log_status_notification.handle,
        "SignedFirmwareStatusNotification": firmware_status_notification.handle,
        "SignCertificate": sign_certificate.handle,
    }
