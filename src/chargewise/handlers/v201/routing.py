"""The OCPP 2.0.1 route table: one line per action the CSMS answers."""

from __future__ import annotations

from chargewise.handlers.context import Handler
from chargewise.handlers.v201 import (
    authorize,
    boot_notification,
    cleared_charging_limit,
    data_transfer,
    firmware_status_notification,
    heartbeat,
    log_status_notification,
    meter_values,
    notify_charging_limit,
    notify_customer_information,
    notify_display_messages,
    notify_ev_charging_needs,
    notify_ev_charging_schedule,
    notify_event,
    notify_monitoring_report,
    notify_report,
    publish_firmware_status_notification,
    report_charging_profiles,
    reservation_status_update,
    security_event_notification,
    sign_certificate,
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
        "NotifyEvent": notify_event.handle,
        "SecurityEventNotification": security_event_notification.handle,
        "FirmwareStatusNotification": firmware_status_notification.handle,
        "LogStatusNotification": log_status_notification.handle,
        "DataTransfer": data_transfer.handle,
        "ReportChargingProfiles": report_charging_profiles.handle,
        "NotifyChargingLimit": notify_charging_limit.handle,
        "ClearedChargingLimit": cleared_charging_limit.handle,
        "NotifyEVChargingNeeds": notify_ev_charging_needs.handle,
        "NotifyEVChargingSchedule": notify_ev_charging_schedule.handle,
        "NotifyMonitoringReport": notify_monitoring_report.handle,
        "NotifyCustomerInformation": notify_customer_information.handle,
        "NotifyDisplayMessages": notify_display_messages.handle,
        "PublishFirmwareStatusNotification": publish_firmware_status_notification.handle,
        "ReservationStatusUpdate": reservation_status_update.handle,
        "SignCertificate": sign_certificate.handle,
    }
