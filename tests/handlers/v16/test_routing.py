from __future__ import annotations

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
from chargewise.handlers.v16.routing import routes
from chargewise.ocpp.v16 import catalog

# issue 2, point 5: the inbound 1.6 actions the central system answers
ISSUE = {
    "BootNotification", "Heartbeat", "StatusNotification", "Authorize", "StartTransaction", "StopTransaction",
    "MeterValues", "DataTransfer", "FirmwareStatusNotification", "DiagnosticsStatusNotification",
    "SecurityEventNotification",
}  # fmt: skip
# the 1.6 security whitepaper's other two status reports (answers to GetLog / SignedUpdateFirmware), which
# arrive beside SecurityEventNotification from the same chargers: routed deliberately, never by accident
WHITEPAPER = {"LogStatusNotification", "SignedFirmwareStatusNotification"}


def test_table_covers_exactly_the_issues_actions_and_the_whitepapers_reports() -> None:
    table = routes()
    assert set(table) >= ISSUE
    assert set(table) - ISSUE == WHITEPAPER | {"SignCertificate"}  # issue 13: a charger's own certificate


def test_every_routed_action_is_a_charger_action_with_schemas() -> None:
    for action in routes():
        assert action in catalog.CHARGER_ACTIONS, action
        assert catalog.request_schema(action).exists(), action
        assert catalog.response_schema(action).exists(), action


def test_each_action_goes_to_its_namesake_module() -> None:
    table = routes()
    assert table == {
        "BootNotification": boot_notification.handle,
        "Heartbeat": heartbeat.handle,
        "StatusNotification": status_notification.handle,
        "Authorize": authorize.handle,
        "StartTransaction": start_transaction.handle,
        "StopTransaction": stop_transaction.handle,
        "MeterValues": meter_values.handle,
        "DataTransfer": data_transfer.handle,
        "SecurityEventNotification": security_event_notification.handle,  # recorded for the doctor
        "SignCertificate": sign_certificate.handle,
        "DiagnosticsStatusNotification": diagnostics_status_notification.handle,  # the log upload's status
        "LogStatusNotification": log_status_notification.handle,
        **dict.fromkeys({"FirmwareStatusNotification", "SignedFirmwareStatusNotification"},
                        firmware_status_notification.handle),  # the firmware campaigns
    }  # fmt: skip


def test_each_call_builds_a_fresh_table() -> None:
    assert routes() is not routes()


def test_every_charger_action_is_answered() -> None:
    # issue 10, point 5 for 1.6: nothing a 1.6 charger may send goes unanswered (SignCertificate: issue 13)
    assert set(routes()) == catalog.CHARGER_ACTIONS
