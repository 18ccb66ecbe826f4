"""The firmware state machine against a fake CSMS through a fake link, in simulated time (``pair.py``)."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest

from chargewise.domain.model import OcppVersion
from chargewise.simulator.clock import iso
from chargewise.simulator.faults import Step, load_scenario
from chargewise.simulator.lifecycle import Phase
from chargewise.simulator.ports import Disconnect, Download, Upload
from chargewise.simulator.templates import Template, load_template
from chargewise.simulator.workload import Visit

from .pair import T0, Pair

V16, V201 = OcppVersion.V16, OcppVersion.V201
BOTH = pytest.mark.parametrize("version", [V16, V201], ids=["1.6", "2.0.1"])


def visit(arrive: float = 100, depart: float = 7200, *, tag: str | None = "TAG1", energy: float = 40_000) -> Visit:
    return Visit(charger=0, connector=1, arrive_s=T0 + arrive, depart_s=T0 + depart, energy_wh=energy,
                 capacity_wh=80_000, soc=0.2, obc_max_a=32, phases=3, id_tag=tag)  # fmt: skip


def template(name: str = "esp32-generic", **keepalive: Any) -> Template:
    t = load_template(name)
    return msgspec.structs.replace(t, keepalive=msgspec.structs.replace(t.keepalive, **keepalive)) if keepalive else t


def tx_messages(p: Pair) -> list[dict[str, Any]]:
    if p.fw.version is V16:
        return [
            {"action": a, **pl}
            for _, a, pl in p.csms.received
            if a in ("StartTransaction", "MeterValues", "StopTransaction")
        ]
    return p.sent("TransactionEvent")


def meter_values(p: Pair) -> list[dict[str, float]]:
    """Each meter message as {measurand[.phase]: value}."""
    out = []
    for _, action, payload in p.csms.received:
        if action == "MeterValues" or (
            action == "TransactionEvent" and payload["triggerReason"] == "MeterValuePeriodic"
        ):
            sampled = payload["meterValue"][0]["sampledValue"]
            out.append(
                {s["measurand"] + ("." + s["phase"] if "phase" in s else ""): float(s["value"]) for s in sampled}
            )
    return out


# ---------------------------------------------------------------- boot and keep-alive
@BOTH
@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_boot_is_retried_at_the_interval_the_csms_gives(version: OcppVersion, status: str) -> None:
    answers = iter([status, status, "Accepted"])
    table = {"BootNotification": lambda p, now: {"currentTime": iso(now), "interval": 45, "status": next(answers)}}
    p = Pair(version, table=table)
    p.run(200)
    boots = [t - T0 for t, a, _ in p.csms.received if a == "BootNotification"]
    assert boots == [4.0, 49.0, 94.0]  # boot time 4 s, then every 45 s
    assert p.fw.phase is Phase.ACCEPTED
    assert all(a in ("BootNotification",) for t, a, _ in p.csms.received if t < T0 + 94)  # nothing else before


@BOTH
def test_heartbeat_after_the_interval_of_inactivity(version: OcppVersion) -> None:
    table = {"BootNotification": lambda p, now: {"currentTime": iso(now), "interval": 60, "status": "Accepted"}}
    p = Pair(version, template("esp32-generic", rssi_report_interval_s=0), table=table)
    p.fw.settings.set("rssi_interval", "0")
    p.run(200)
    beats = [round(t - T0) for t, a, _ in p.csms.received if a == "Heartbeat"]
    assert beats == [64, 124, 184]


# ---------------------------------------------------------------- transactions
@BOTH
def test_transaction_authorize_start_meter_values_stop(version: OcppVersion) -> None:
    p = Pair(version, visits=[visit(100, 1000)])
    p.run(1100)
    assert p.sent("Authorize")
    messages = tx_messages(p)
    if version is V16:
        assert messages[0]["action"] == "StartTransaction"
        assert messages[-1]["action"] == "StopTransaction" and messages[-1]["reason"] == "EVDisconnected"
        assert messages[-1]["meterStop"] > 0 and messages[-1]["transactionId"] >= 100
    else:
        assert messages[0]["eventType"] == "Started" and messages[-1]["eventType"] == "Ended"
        assert [m["seqNo"] for m in messages] == list(range(len(messages)))
        assert len({m["transactionInfo"]["transactionId"] for m in messages}) == 1
        assert messages[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    samples = meter_values(p)
    assert len(samples) == 14  # every 60 s from 160 s to 940 s; the EV leaves at 1000 s
    energy = [s["Energy.Active.Import.Register"] for s in samples]
    assert energy == sorted(energy) and energy[-1] > energy[0] > 0
    assert samples[3]["Current.Import.L1"] == 32 and samples[3]["Power.Active.Import"] == 32 * 230 * 3
    assert samples[3]["Voltage.L1-N"] == 230 and samples[3]["Current.Offered"] == 32


def test_soc_is_reported_only_by_chargers_that_know_it() -> None:
    p = Pair(V201, "dual-ac-15118", visits=[visit(10, 500)])
    p.run(400)
    assert 20 < meter_values(p)[-1]["SoC"] < 40
    plain = Pair(V201, visits=[visit(10, 500)])
    plain.run(400)
    assert "SoC" not in meter_values(plain)[-1]


@BOTH
def test_status_transitions_through_a_session(version: OcppVersion) -> None:
    p = Pair(version, "esp32-generic", visits=[visit(100, 1000, energy=2_000)])
    p.run(1100)
    statuses = [s["status"] if version is V16 else s["connectorStatus"] for s in p.sent("StatusNotification")
                if s.get("connectorId", 1) == 1 and s.get("evseId", 1) == 1]  # fmt: skip
    if version is V16:
        assert statuses == ["Available", "Preparing", "Charging", "SuspendedEV", "Available"]
    else:
        assert statuses == ["Available", "Occupied", "Available"]
        states = [m["transactionInfo"]["chargingState"] for m in p.sent("TransactionEvent")]
        assert "Charging" in states and "SuspendedEV" in states


@BOTH
def test_a_10_amp_tx_profile_is_drawn_within_one_meter_interval_and_clearing_restores_the_default(
    version: OcppVersion,
) -> None:
    p = Pair(version, visits=[visit(100, 7200)])
    p.run(300)
    assert meter_values(p)[-1]["Current.Import.L1"] == 32
    if version is V16:
        tx_id = p.sent("StartTransaction") and p.fw.tx_ids[1]
        schedule = {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}
        profile = {"chargingProfileId": 10, "transactionId": int(tx_id), "stackLevel": 1,
                   "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
                   "chargingSchedule": schedule}  # fmt: skip
        answer = p.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    else:
        tx_id = p.sent("TransactionEvent")[0]["transactionInfo"]["transactionId"]
        profile = {"id": 10, "transactionId": tx_id, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
                   "chargingProfileKind": "Relative", "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                   "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}]}  # fmt: skip
        answer = p.call("SetChargingProfile", {"evseId": 1, "chargingProfile": profile})
    assert answer == {"status": "Accepted"}
    before = len(meter_values(p))
    p.run(60)  # one meter interval
    limited = meter_values(p)[before:]
    assert len(limited) == 1 and limited[0]["Current.Import.L1"] == 10 and limited[0]["Current.Offered"] == 10
    cleared = p.call("ClearChargingProfile", {"id": 10} if version is V16 else {"chargingProfileId": 10})
    assert cleared == {"status": "Accepted"}
    p.run(60)
    assert meter_values(p)[-1]["Current.Import.L1"] == 32


@BOTH
def test_remote_start_and_stop(version: OcppVersion) -> None:
    p = Pair(version, visits=[visit(50, 7200, tag=None)])
    p.run(120)
    assert not tx_messages(p)  # the EV waits for the app
    start = (
        {"idTag": "APP1", "connectorId": 1}
        if version is V16
        else {"idToken": {"idToken": "APP1", "type": "Central"}, "remoteStartId": 7}
    )
    assert (
        p.call("RemoteStartTransaction" if version is V16 else "RequestStartTransaction", start)["status"] == "Accepted"
    )
    p.run(120)
    assert meter_values(p)
    if version is V16:
        started = p.sent("StartTransaction")[0]
        assert started["idTag"] == "APP1"
        stop = p.call("RemoteStopTransaction", {"transactionId": int(p.fw.tx_ids[1])})
    else:
        started = p.sent("TransactionEvent")[0]
        assert started["triggerReason"] == "RemoteStart" and started["transactionInfo"]["remoteStartId"] == 7
        stop = p.call("RequestStopTransaction", {"transactionId": started["transactionInfo"]["transactionId"]})
    assert stop == {"status": "Accepted"}
    p.run(10)
    last = tx_messages(p)[-1]
    assert (last.get("reason") or last["transactionInfo"]["stoppedReason"]) == "Remote"
    assert p.fw.connectors[0].status().value == "Finishing"


def test_remote_start_without_an_ev_expires_after_connection_timeout() -> None:
    p = Pair(V16)
    p.run(30)
    assert p.call("RemoteStartTransaction", {"idTag": "APP1"}) == {"status": "Accepted"}
    assert p.fw.connectors[0].status().value == "Preparing"
    p.run(130)
    assert p.fw.connectors[0].status().value == "Available" and not p.sent("StartTransaction")


# ---------------------------------------------------------------- offline behaviour
@BOTH
def test_offline_messages_are_replayed_in_order_after_reconnect_none_lost(version: OcppVersion) -> None:
    p = Pair(version, visits=[visit(100, 7200)])
    p.run(400)
    online = len(meter_values(p))
    p.cut()
    p.run(1200)  # 20 minutes offline: 20 meter messages queued
    assert len(p.fw.outbox) >= 20 and len(meter_values(p)) == online
    p.restore()
    p.run(600)
    samples = meter_values(p)
    energy = [s["Energy.Active.Import.Register"] for s in samples]
    assert len(samples) == online + 20 + 10 - 1 or len(samples) == online + 20 + 10
    assert energy == sorted(energy) and p.fw.outbox.dropped == 0 and len(p.fw.outbox) == 0
    if version is V201:
        events = p.sent("TransactionEvent")
        assert [e["seqNo"] for e in events] == list(range(len(events)))
        assert any(e.get("offline") for e in events)
    stamps = [m["meterValue"][0]["timestamp"] for m in tx_messages(p) if "meterValue" in m]
    assert stamps == sorted(stamps)


def test_a_full_queue_drops_the_oldest_meter_values_and_keeps_start_and_stop() -> None:
    small = msgspec.structs.replace(load_template("esp32-generic"), offline_queue_limit=10)
    p = Pair(V201, small, visits=[visit(100, 3000)])
    p.run(200)
    p.cut()
    p.run(3600)  # the EV leaves while offline: Ended is queued
    p.restore()
    p.run(300)
    events = p.sent("TransactionEvent")
    assert events[0]["eventType"] == "Started" and events[-1]["eventType"] == "Ended"
    seqs = [e["seqNo"] for e in events]
    assert seqs == sorted(seqs) and seqs[-1] + 1 > len(seqs)  # the gap shows what was dropped
    assert p.fw.outbox.dropped == seqs[-1] + 1 - len(seqs)


def test_reconnect_back_off_doubles_then_stays_with_jitter_in_range() -> None:
    t = template(retry_backoff_wait_minimum_s=2, retry_backoff_random_range_s=0, retry_backoff_repeat_times=3)
    p = Pair(V201, t)
    p.cut()
    p.run(200)
    attempts = [round(line_time - T0) for line_time in _failure_times(p)]
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps[:6] == [2, 4, 8, 16, 16, 16]
    jittery = Pair(
        V201, template(retry_backoff_wait_minimum_s=2, retry_backoff_random_range_s=5, retry_backoff_repeat_times=3)
    )
    jittery.cut()
    jittery.run(200)
    times = _failure_times(jittery)
    gaps2 = [b - a for a, b in itertools.pairwise(times)]
    assert all(base <= g <= base + 5 for g, base in zip(gaps2, [2, 4, 8, 16, 16], strict=False))


def _failure_times(p: Pair) -> list[float]:
    from chargewise.simulator.clock import parse_iso

    return [parse_iso(line.split(" ", 1)[0]) for line in p.fw.log if "connect failed" in line]


def test_juicebox_stops_charging_when_its_backend_is_gone_too_long() -> None:
    p = Pair(V16, "enelx-juicebox", visits=[visit(100, 7200)])
    p.run(200)
    assert p.fw.connectors[0].draw.amps > 0
    p.cut()
    p.run(500)
    assert p.fw.connectors[0].draw.amps > 0  # within offline_after_s
    p.run(200)
    assert p.fw.connectors[0].draw.amps == 0 and p.fw.connectors[0].status().value == "SuspendedEVSE"


@pytest.mark.parametrize(("name", "boots"), [("esp32-generic", 2), ("chargepoint-home-flex", 1)])
def test_boot_on_reconnect_quirk(name: str, boots: int) -> None:
    p = Pair(V16, name)
    p.run(100)
    p.cut(stay_down=False)
    p.run(200)
    assert len(p.sent("BootNotification")) == boots and p.fw.phase is Phase.ACCEPTED


def test_answers_are_late_when_the_template_says_so() -> None:
    p = Pair(V16, "chargepoint-home-flex")
    p.run(60)
    uid = p.csms.call("GetConfiguration", {"key": ["HeartbeatInterval"]}, p.now)
    for frame in p.csms.session.outgoing():
        p.fw.receive(frame, p.now)
    p.flush()
    assert uid not in p.csms.results
    p.run(2)
    assert p.csms.results[uid]["configurationKey"][0]["value"] == "300"


# ---------------------------------------------------------------- reset, firmware, logs
@BOTH
def test_reset_stops_the_transaction_and_boots_again_with_a_reason(version: OcppVersion) -> None:
    p = Pair(version, visits=[visit(100, 7200)])
    p.run(300)
    assert p.call("Reset", {"type": "Hard" if version is V16 else "Immediate"}) == {"status": "Accepted"}
    p.run(60)
    assert any(isinstance(e, Disconnect) for e in p.effects)
    boots = p.sent("BootNotification")
    assert len(boots) == 2
    last = tx_messages(p)[-1]
    if version is V16:
        assert last["reason"] == "HardReset"
        assert p.sent("SecurityEventNotification")[-1]["type"] == "ResetOrReboot"
    else:
        assert boots[-1]["reason"] == "RemoteReset" and last["transactionInfo"]["stoppedReason"] == "ImmediateReset"


@BOTH
def test_update_firmware_goes_through_every_status_and_reboots_with_the_new_version(version: OcppVersion) -> None:
    p = Pair(version)
    p.run(30)
    url = "http://files.example/fw/esp-2.0.0.bin"
    if version is V16:
        assert p.call("UpdateFirmware", {"location": url, "retrieveDate": iso(p.now)}) == {}
    else:
        answer = p.call(
            "UpdateFirmware", {"requestId": 5, "firmware": {"location": url, "retrieveDateTime": iso(p.now)}}
        )
        assert answer == {"status": "Accepted"}
    p.run(120)
    statuses = [s["status"] for s in p.sent("FirmwareStatusNotification")]
    middle = ["Installing"] if version is V16 else ["Installing", "InstallRebooting"]
    assert statuses == ["Downloading", "Downloaded", *middle, "Installed"]
    assert any(isinstance(e, Download) and e.url == url for e in p.effects)
    boot = p.sent("BootNotification")[-1]
    new = boot["firmwareVersion"] if version is V16 else boot["chargingStation"]["firmwareVersion"]
    assert new == "2.0.0"
    assert p.sent("SecurityEventNotification")[-1]["type"] == "FirmwareUpdated"


def test_update_firmware_failure_paths() -> None:
    missing, empty = "http://files.example/fw-3.0.bin", "http://files.example/fw-3.1.bin"
    p = Pair(V201, downloads={missing: None})
    p.run(30)
    request = {"requestId": 1, "retries": 1, "retryInterval": 10, "firmware": {"location": missing,
               "retrieveDateTime": iso(p.now)}}  # fmt: skip
    assert p.call("UpdateFirmware", request) == {"status": "Accepted"}
    p.run(30)
    statuses = [s["status"] for s in p.sent("FirmwareStatusNotification")]
    assert statuses == ["Downloading", "Downloading", "DownloadFailed"] and p.fw.maintenance.firmware is None

    q = Pair(V16, downloads={empty: b""})
    q.run(30)
    q.call("UpdateFirmware", {"location": empty, "retrieveDate": iso(q.now)})
    q.run(30)
    statuses = [s["status"] for s in q.sent("FirmwareStatusNotification")]
    assert statuses == ["Downloading", "Downloaded", "InstallationFailed"]
    assert len(q.sent("BootNotification")) == 1  # no reboot, old version kept


@BOTH
def test_logs_are_uploaded_as_real_files(version: OcppVersion) -> None:
    p = Pair(version, visits=[visit(10, 200)])
    p.run(300)
    if version is V16:
        answer = p.call("GetDiagnostics", {"location": "http://files.example/upload"})
        assert answer["fileName"].startswith("CP1-diagnostics-")
    else:
        answer = p.call(
            "GetLog",
            {"logType": "DiagnosticsLog", "requestId": 3, "log": {"remoteLocation": "http://files.example/upload"}},
        )
        assert answer["status"] == "Accepted"
    p.run(5)
    upload = next(e for e in p.effects if isinstance(e, Upload))
    text = upload.body.decode()
    assert upload.url == "http://files.example/upload" and "transaction 1 started" in text and "power on" in text
    if version is V16:
        assert [s["status"] for s in p.sent("DiagnosticsStatusNotification")] == ["Uploading", "Uploaded"]
    else:
        assert [(s["status"], s["requestId"]) for s in p.sent("LogStatusNotification")] == [
            ("Uploading", 3),
            ("Uploaded", 3),
        ]


# ---------------------------------------------------------------- faults seen from the firmware
def test_ground_fault_suspends_charging_and_recovers() -> None:
    p = Pair(V16, scenario="ground-fault", visits=[visit(100, 7200)])
    p.run(400)
    assert p.fw.connectors[0].status().value == "Faulted" and p.fw.connectors[0].draw.amps == 0
    p.run(600)
    statuses = [(s["status"], s["errorCode"]) for s in p.sent("StatusNotification") if s["connectorId"] == 1]
    assert ("Faulted", "GroundFailure") in statuses and statuses[-1] == ("Charging", "NoError")


def test_tls_failures_are_reported_after_the_first_good_handshake() -> None:
    scenario = msgspec.structs.replace(
        load_scenario("tls-untrusted"), timeline=(Step(at=120, event="tls", error=None),)
    )
    p = Pair(V201, scenario=scenario)
    p.run(300)
    assert p.fw.failures["tls"] >= 3
    event = next(e for e in p.sent("SecurityEventNotification") if e["type"] == "InvalidCsmsCertificate")
    assert (
        "unable to get local issuer certificate" in event["techInfo"] and "failed TLS handshakes" in event["techInfo"]
    )


def test_same_seed_same_run_other_seed_other_run() -> None:
    def run(seed: str) -> list[tuple[float, str, Any]]:
        p = Pair(V201, scenario="weak-rssi", visits=[visit(100, 5000)], seed=seed)
        p.run(6000)
        return p.csms.received

    assert run("a") == run("a") and run("a") != run("b")
