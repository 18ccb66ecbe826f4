from __future__ import annotations

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
from chargewise.handlers.v201.routing import routes
from chargewise.ocpp.v201 import catalog

# issue 2, point 5: the inbound 2.0.1 actions the CSMS answers
ISSUE = {
    "BootNotification", "Heartbeat", "StatusNotification", "Authorize", "TransactionEvent", "MeterValues",
    "NotifyReport", "NotifyEvent", "SecurityEventNotification", "FirmwareStatusNotification",
    "LogStatusNotification", "DataTransfer",
}  # fmt: skip
REPORTS = {"NotifyEvent", "SecurityEventNotification", "FirmwareStatusNotification",
           "LogStatusNotification"}  # fmt: skip


def test_table_covers_exactly_the_issues_actions() -> None:
    assert set(routes()) == ISSUE


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
        **dict.fromkeys(REPORTS, notifications.handle),
    }
