"""The OCPP 2.0.1 route table: one line per action the CSMS answers."""

from __future__ import annotations

from chargewise.handlers.context import Handler
from chargewise.handlers.v201 import (
    authorize,
    boot_notification,
    data_transfer,
    heartbeat,
    meter_values,
    notifications,
    notify_report,
    status_notification,
    transaction_event,
)


def routes() -> dict[str, Handler]:
    return {
        "BootNotification": boot_notification.handle,
        "Heartbeat": heartbeat.handle,
        "StatusNotification": status_notification.handle,
        "Authorize": authorize.handle,
        "TransactionEvent": transaction_event.handle,
        "MeterValues": meter_values.handle,
        "NotifyReport": notify_report.handle,
        "NotifyEvent": notifications.handle,
        "SecurityEventNotification": notifications.handle,
        "FirmwareStatusNotification": notifications.handle,
        "LogStatusNotification": notifications.handle,
        "DataTransfer": data_transfer.handle,
    }
