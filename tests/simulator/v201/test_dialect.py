"""OCPP 2.0.1 as the simulated charger speaks it: device model, monitoring, commands, radio reports."""

from __future__ import annotations

from typing import Any

from chargewise.domain.model import OcppVersion

from ..pair import Pair
from ..test_firmware import visit

V201 = OcppVersion.V201
SIGNAL = {"component": {"name": "DataLink"}, "variable": {"name": "SignalStrength"}}


def pair(**kw: Any) -> Pair:
    p = Pair(V201, **kw)
    p.run(31)
    return p


def test_get_and_set_variables() -> None:
    p = pair()
    answer = p.call("GetVariables", {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
        SIGNAL,
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "Nope"}},
        {"component": {"name": "Toaster"}, "variable": {"name": "Nope"}},
    ]})  # fmt: skip
    rows = answer["getVariableResult"]
    assert rows[0]["attributeValue"] == "300" and -50 < int(rows[1]["attributeValue"]) < -35
    assert [r["attributeStatus"] for r in rows] == ["Accepted", "Accepted", "UnknownVariable", "UnknownComponent"]
    answer = p.call("SetVariables", {"setVariableData": [
        {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}, "attributeValue": "20"},
        {"attributeValue": "-60", **SIGNAL},
        {"component": {"name": "OCPPCommCtrlr"}, "attributeValue": "0",
         "variable": {"name": "MessageAttempts", "instance": "TransactionEvent"}},
    ]})  # fmt: skip
    assert [r["attributeStatus"] for r in answer["setVariableResult"]] == ["Accepted", "Rejected", "Rejected"]
    assert p.fw.settings.int("meter_interval") == 20


def test_get_base_report_is_answered_with_notify_report() -> None:
    p = pair()
    assert p.call("GetBaseReport", {"requestId": 9, "reportBase": "FullInventory"}) == {"status": "Accepted"}
    report = p.sent("NotifyReport")[-1]
    assert report["requestId"] == 9 and report["tbc"] is False
    signal = next(r for r in report["reportData"] if r["component"]["name"] == "DataLink")
    assert signal["variableCharacteristics"] == {"dataType": "decimal", "supportsMonitoring": True, "unit": "dBm"}
    assert signal["variableAttribute"][0]["mutability"] == "ReadOnly"


def test_signal_strength_is_reported_periodically_and_alerts_below_minus_75() -> None:
    p = pair(scenario="sticky-mesh")
    p.run(600)
    events = [e for n in p.sent("NotifyEvent") for e in n["eventData"]]
    periodic = [int(e["actualValue"]) for e in events if e["trigger"] == "Periodic"]
    alerts = [e for e in events if e["trigger"] == "Alerting"]
    assert periodic[0] > -45 and periodic[-1] < -74  # roamed to the far node at 300 s
    assert alerts and alerts[0]["cleared"] is False and alerts[0]["eventNotificationType"] == "HardWiredMonitor"
    assert all(e["component"] == {"name": "DataLink"} and e["variable"] == {"name": "SignalStrength"} for e in events)


def test_custom_monitors_on_signal_strength() -> None:
    p = pair(scenario="sticky-mesh")
    answer = p.call("SetVariableMonitoring", {"setMonitoringData": [
        {"value": -70, "type": "LowerThreshold", "severity": 5, **SIGNAL},
        {"value": 5, "type": "Delta", "severity": 8, **SIGNAL},
        {"value": 1, "type": "UpperThreshold", "severity": 5, "component": {"name": "OCPPCommCtrlr"},
         "variable": {"name": "HeartbeatInterval"}},
    ]})  # fmt: skip
    results = answer["setMonitoringResult"]
    assert [r["status"] for r in results] == ["Accepted", "Accepted", "Rejected"]
    p.run(400)
    custom = [e for n in p.sent("NotifyEvent") for e in n["eventData"] if e["eventNotificationType"] == "CustomMonitor"]
    lower = [e for e in custom if e["variableMonitoringId"] == results[0]["id"]]
    assert lower and lower[0]["trigger"] == "Alerting" and int(lower[0]["actualValue"]) < -70
    cleared = p.call("ClearVariableMonitoring", {"id": [results[0]["id"], 99]})
    assert [r["status"] for r in cleared["clearMonitoringResult"]] == ["Accepted", "NotFound"]


def test_trigger_message_and_boot_notification_refused_once_accepted() -> None:
    p = pair(visits=[visit(5, 3600)])
    p.run(30)
    assert p.call("TriggerMessage", {"requestedMessage": "BootNotification"}) == {"status": "Rejected"}
    assert p.call("TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 1}}) == {
        "status": "Accepted"
    }
    assert p.sent("TransactionEvent")[-1]["triggerReason"] == "Trigger"
    assert p.call("TriggerMessage", {"requestedMessage": "SignV2GCertificate"}) == {"status": "NotImplemented"}


def test_unlock_refused_during_a_transaction_and_get_transaction_status() -> None:
    p = pair(visits=[visit(5, 3600)])
    p.run(30)
    assert p.call("UnlockConnector", {"evseId": 1, "connectorId": 1}) == {"status": "OngoingAuthorizedTransaction"}
    tx_id = p.sent("TransactionEvent")[0]["transactionInfo"]["transactionId"]
    assert p.call("GetTransactionStatus", {"transactionId": tx_id}) == {
        "messagesInQueue": False,
        "ongoingIndicator": True,
    }
    assert p.call("UnlockConnector", {"evseId": 3, "connectorId": 1}) == {"status": "UnknownConnector"}


def test_reset_on_idle_waits_for_the_transaction() -> None:
    p = pair(visits=[visit(5, 300)])
    p.run(30)
    assert p.call("Reset", {"type": "OnIdle"}) == {"status": "Scheduled"}
    p.run(100)
    assert len(p.sent("BootNotification")) == 1
    p.run(300)
    assert [b["reason"] for b in p.sent("BootNotification")] == ["PowerUp", "RemoteReset"]


def test_composite_schedule_in_watts_and_rejected_units() -> None:
    p = pair(template="dual-ac-15118")
    answer = p.call("GetCompositeSchedule", {"duration": 300, "evseId": 2, "chargingRateUnit": "W"})
    schedule = answer["schedule"]
    assert schedule["evseId"] == 2 and schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 22080.0, "numberPhases": 3}
    ]
    juice = Pair(V201, "enelx-juicebox")
    juice.run(20)
    assert juice.call("GetCompositeSchedule", {"duration": 60, "evseId": 1, "chargingRateUnit": "W"}) == {
        "status": "Rejected"
    }
