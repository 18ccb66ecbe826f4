from __future__ import annotations

from chargewise.handlers.v201 import (
    authorize,
    boot_notification,
    cleared_charging_limit,
    data_transfer,
    firmware_status_notification,
    heartbeat,
    log_status_notification,
    meter_values,
    notifications,
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
from chargewise.handlers.v201.routing import routes
from chargewise.ocpp.v201 import catalog

# issue 2, point 5: the inbound 2.0.1 actions the CSMS answers
ISSUE = {
    "BootNotification", "Heartbeat", "StatusNotification", "Authorize", "TransactionEvent", "MeterValues",
    "NotifyReport", "NotifyEvent", "SecurityEventNotification", "FirmwareStatusNotification",
    "LogStatusNotification", "DataTransfer",
}  # fmt: skip
# issue 10, point 5: every other message a 2.0.1 charger may send, certificates aside (the fleet issue's)
ISSUE_10 = {
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
}
# issue 13, point 4: a charging station asks for its own certificate
ISSUE_13 = {"SignCertificate": sign_certificate.handle}
CERTIFICATES = {"Get15118EVCertificate", "GetCertificateStatus"}  # ISO 15118 Plug & Charge: not here
REPORTS = {"FirmwareStatusNotification", "LogStatusNotification"}


def test_table_covers_exactly_the_issues_actions() -> None:
    assert set(routes()) == ISSUE | set(ISSUE_10) | set(ISSUE_13)


def test_every_charger_action_but_the_certificates_is_answered() -> None:
    assert set(routes()) == catalog.CHARGER_ACTIONS - CERTIFICATES


def test_every_routed_action_is_a_charger_action_with_schemas() -> None:
    for action in routes():
        assert action in catalog.CHARGER_ACTIONS, action
        assert catalog.request_schema(action).exists(), action
        assert catalog.response_schema(action).exists(), action


def test_each_action_goes_to_its_namesake_module() -> None:
    assert routes() == {
        "BootNotification": boot_notification.handle,
        "Heartbeat": heartbeat.handle,
        "StatusNotification": status_notification.handle,
        "Authorize": authorize.handle,
        "TransactionEvent": transaction_event.handle,
        "MeterValues": meter_values.handle,
        "DataTransfer": data_transfer.handle,
        "NotifyReport": notify_report.handle,
        "NotifyEvent": notify_event.handle,  # signal strength for the doctor
        "SecurityEventNotification": security_event_notification.handle,
        "LogStatusNotification": log_status_notification.handle,  # the log upload's status
        **dict.fromkeys(REPORTS - {"FirmwareStatusNotification", "LogStatusNotification"}, notifications.handle),
        "FirmwareStatusNotification": firmware_status_notification.handle,  # the firmware campaigns
        **ISSUE_10,
        **ISSUE_13,
    }
