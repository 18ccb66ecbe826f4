"""OCPP 1.6 as the simulated charger speaks it: configuration, commands, composite schedules, radio reports."""

from __future__ import annotations

import json

from chargewise.domain.model import OcppVersion
from chargewise.simulator.v16.dialect import VENDOR_ID

from ..pair import Pair
from ..test_firmware import visit

V16 = OcppVersion.V16


def pair(**kw: object) -> Pair:
    p = Pair(V16, **kw)  # type: ignore[arg-type]
    p.run(30)
    return p


def test_get_and_change_configuration() -> None:
    p = pair()
    every = p.call("GetConfiguration", {})
    keys = {row["key"]: row for row in every["configurationKey"]}
    assert keys["HeartbeatInterval"]["value"] == "300" and keys["NumberOfConnectors"]["readonly"] is True
    some = p.call("GetConfiguration", {"key": ["MeterValueSampleInterval", "NoSuchKey"]})
    assert [r["key"] for r in some["configurationKey"]] == ["MeterValueSampleInterval"]
    assert some["unknownKey"] == ["NoSuchKey"]
    assert p.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "15"}) == {"status": "Accepted"}
    assert p.call("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "3"}) == {"status": "Rejected"}
    assert p.call("ChangeConfiguration", {"key": "Nope", "value": "1"}) == {"status": "NotSupported"}
    assert p.fw.settings.int("meter_interval") == 15


def test_trigger_message_sends_the_message_after_the_answer() -> None:
    p = pair(visits=[visit(5, 3600)])
    p.run(30)
    before = len(p.csms.received)
    assert p.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}) == {"status": "Accepted"}
    assert p.call("TriggerMessage", {"requestedMessage": "Heartbeat"}) == {"status": "Accepted"}
    assert (
        p.call("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1})["status"] == "Accepted"
    )
    names = [a for _, a, _ in p.csms.received[before:]]
    assert names == ["MeterValues", "Heartbeat", "StatusNotification"]
    assert p.sent("MeterValues")[-1]["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_change_availability_is_scheduled_during_a_transaction() -> None:
    p = pair(visits=[visit(5, 600)])
    p.run(60)
    assert p.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {"status": "Scheduled"}
    p.run(600)
    assert p.fw.connectors[0].status().value == "Unavailable"
    assert p.call("ChangeAvailability", {"connectorId": 0, "type": "Operative"}) == {"status": "Accepted"}
    assert p.sent("StatusNotification")[-1]["status"] == "Available"


def test_unlock_connector_stops_the_transaction() -> None:
    p = pair(visits=[visit(5, 3600)])
    p.run(60)
    assert p.call("UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    p.run(5)
    assert p.sent("StopTransaction")[-1]["reason"] == "UnlockCommand"
    assert p.call("UnlockConnector", {"connectorId": 4}) == {"status": "NotSupported"}


def test_get_composite_schedule_over_the_wire() -> None:
    p = pair()
    periods = [{"startPeriod": 0, "limit": 6900}, {"startPeriod": 600, "limit": 11040}]
    profile = {"chargingProfileId": 3, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Relative",
               "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": periods}}  # fmt: skip
    assert p.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}) == {"status": "Accepted"}
    answer = p.call("GetCompositeSchedule", {"connectorId": 1, "duration": 1200, "chargingRateUnit": "A"})
    assert answer["status"] == "Accepted"
    periods = answer["chargingSchedule"]["chargingSchedulePeriod"]
    assert [(x["startPeriod"], x["limit"]) for x in periods] == [(0, 10.0), (600, 16.0)]


def test_quirks_refuse_what_the_juicebox_cannot_do() -> None:
    p = pair(template="enelx-juicebox")
    watts = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
             "chargingProfileKind": "Relative", "chargingSchedule": {"chargingRateUnit": "W",
             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5000}]}}  # fmt: skip
    assert p.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": watts}) == {"status": "Rejected"}
    amps = {
        **watts,
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]},
    }
    assert p.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": amps}) == {"status": "Accepted"}
    cp_max = {**amps, "chargingProfileId": 2, "chargingProfilePurpose": "ChargePointMaxProfile"}
    assert p.call("SetChargingProfile", {"connectorId": 0, "csChargingProfiles": cp_max}) == {"status": "Rejected"}


def test_rssi_goes_out_as_a_vendor_data_transfer() -> None:
    p = pair()
    p.run(300)
    report = p.sent("DataTransfer")[-1]
    assert report["vendorId"] == VENDOR_ID and report["messageId"] == "Rssi"
    data = json.loads(report["data"])
    assert -50 < data["rssi"] < -35 and data["bssid"] == "02:00:00:00:00:01"


def test_weak_signal_is_a_status_notification_on_connector_0() -> None:
    p = pair(scenario="weak-rssi")
    p.run(900)
    weak = [s for s in p.sent("StatusNotification") if s["connectorId"] == 0 and s["errorCode"] == "WeakSignal"]
    assert weak and weak[0]["info"].startswith("RSSI -7")


def test_every_command_a_csms_may_send_is_answered_never_not_supported() -> None:
    # with the security extension's certificate calls (simulator/credential_calls.py) the simulated 1.6 charger
    # knows every command of the 1.6 catalog; a well-formed one is never answered NotSupported
    p = pair()
    answer = p.call("ExtendedTriggerMessage", {"requestedMessage": "Heartbeat"})
    assert not (isinstance(answer, str) and answer.startswith("NotSupported")), answer
    answer = p.call("GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"})
    assert not (isinstance(answer, str) and answer.startswith("NotSupported")), answer
