"""explain.py: the JSON shape, the timeline's lines and the plain text, on signals built by hand."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from chargewise.doctor.explain import iso, timeline, to_json, to_text
from chargewise.doctor.findings import Cause
from chargewise.doctor.rules import diagnose
from chargewise.doctor.signals import (
    BootSample,
    ClosedBy,
    LinkEvent,
    LinkEventKind,
    PingSample,
    RadioSample,
    SecurityEventSample,
    Signals,
    StatusSample,
)
from tests.doctor.cases import T0, at

NOW = T0 + timedelta(hours=1)


def _signals() -> Signals:
    return Signals(
        charger_id="CP-7",
        since=T0,
        ever_connected=True,
        connected_now=True,
        links=(
            LinkEvent(at=at(0), kind=LinkEventKind.CONNECTED, remote="203.0.113.7", tls_version="TLSv1.3"),
            LinkEvent(
                at=at(900),
                kind=LinkEventKind.DISCONNECTED,
                closed_by=ClosedBy.PING_TIMEOUT,
                close_code=1006,
                last_frame_at=at(830),
            ),
            LinkEvent(at=at(1500), kind=LinkEventKind.CONNECTED, remote="198.51.100.23"),
        ),
        pings=(PingSample(at=at(60), rtt_s=0.02), PingSample(at=at(870), rtt_s=None)),
        radio=(
            RadioSample(at=at(5), rssi_dbm=-43, bssid="02:00:00:00:00:0a"),
            RadioSample(at=at(305), rssi_dbm=-45, bssid="02:00:00:00:00:0a"),  # a wiggle: no line
            RadioSample(at=at(605), rssi_dbm=-79, bssid="02:00:00:00:00:0b"),
            RadioSample(at=at(1505), rssi_dbm=-42, bssid="02:00:00:00:00:0a"),
        ),
        statuses=(
            StatusSample(at=at(2), evse_id=1, connector_id=1, status="Available"),
            StatusSample(at=at(1502), evse_id=1, connector_id=1, status="Available"),  # repeated: no line
            StatusSample(at=at(2000), evse_id=1, connector_id=1, status="Faulted", error_code="GroundFailure"),
            StatusSample(
                at=at(610), evse_id=0, connector_id=0, status="Available", error_code="WeakSignal", info="RSSI -79 dBm"
            ),
        ),
        boots=(BootSample(at=at(1), reason="PowerUp", firmware="1.4.2"),),
        security_events=(SecurityEventSample(at=at(1501), type="ResetOrReboot", tech_info="boot reason RemoteReset"),),
    )


def test_iso_is_utc_with_z() -> None:
    assert iso(datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))) == "2026-03-01T08:00:00Z"
    assert iso(datetime(2026, 3, 1, 8, 0)) == "2026-03-01T08:00:00Z"  # naive: taken as UTC
    assert iso(None) is None


def test_timeline_merges_every_kind_oldest_first() -> None:
    lines = timeline(_signals())
    assert [m.at for m in lines] == sorted(m.at for m in lines)
    text = [(iso(m.at), m.what, m.detail) for m in lines]
    assert ("2026-03-01T08:00:00Z", "connected", "the charger connected from 203.0.113.7 over TLSv1.3") in text
    assert ("2026-03-01T08:00:01Z", "boot", "the charger started (PowerUp), firmware 1.4.2") in text
    gone = next(d for _, w, d in text if w == "disconnected")
    assert "our ping got no answer" in gone and "after 15 min" in gone and "silent for 70 s" in gone
    radio = [d for _, w, d in text if w == "Wi-Fi signal"]
    assert radio == [
        "-43 dBm (access point 02:00:00:00:00:0a)",
        "-43 -> -79 dBm (access point 02:00:00:00:00:0b) (weak)",
        "-79 -> -42 dBm (access point 02:00:00:00:00:0a) (usable again)",
    ]
    statuses = [d for _, w, d in text if w == "status"]
    assert statuses == [
        "connector 1: Available",
        "the station reports a weak Wi-Fi signal (RSSI -79 dBm)",
        "connector 1: Faulted (GroundFailure)",
    ]
    assert ("2026-03-01T08:14:30Z", "ping lost", "our WebSocket ping got no answer") in text
    assert any(w == "security event" and d == "ResetOrReboot: boot reason RemoteReset" for _, w, d in text)


def test_json_shape_and_values() -> None:
    signals = _signals()
    diagnosis = diagnose(signals, NOW)
    data = to_json(diagnosis, signals)
    assert set(data) == {"charger_id", "at", "cause", "findings", "timeline"}
    assert data["charger_id"] == "CP-7" and data["at"] == "2026-03-01T09:00:00Z"
    assert data["cause"] == diagnosis.findings[0].cause.value == data["findings"][0]["cause"]
    for f in data["findings"]:
        assert set(f) == {"cause", "confidence", "summary", "explanation", "fix", "evidence", "tells_apart"}
        assert Cause(f["cause"]) and 0 <= f["confidence"] <= 1
        for e in f["evidence"]:
            assert set(e) == {"at", "what", "value"}
            assert e["at"] is None or e["at"].endswith("Z")
    assert [m["at"] for m in data["timeline"]] == sorted(m["at"] for m in data["timeline"])
    assert json.loads(json.dumps(data)) == data  # plain JSON types only


def test_text_for_a_never_connected_charger_lists_causes_and_checks() -> None:
    signals = Signals(charger_id="CP-9", since=T0, known_since=T0)
    text = to_text(diagnose(signals, NOW), signals)
    assert "Most likely: dns" in text
    for cause in ("DNS", "WPA3", "5 GHz", "MAC filter", "URL or credentials", "TLS"):
        assert cause in text, cause
    for check in ("chargewise doctor probe", "chargewise doctor audit", "chargewise doctor rf"):
        assert check in text, check
    assert "(nothing recorded)" in text
    assert "healthy" not in text


def test_text_shows_the_first_finding_with_evidence_then_the_timeline_tail() -> None:
    signals = _signals()
    diagnosis = diagnose(signals, NOW)
    text = to_text(diagnosis, signals, timeline_lines=3)
    first = diagnosis.findings[0]
    assert f"Most likely: {first.cause.value} ({first.confidence:.0%})" in text
    assert first.summary in text and first.fix in text
    assert f"(last 3 of {len(timeline(signals))})" in text
    assert text.rstrip().endswith("connector 1: Faulted (GroundFailure)")


def test_evidence_times_are_utc() -> None:
    signals = _signals()
    data = to_json(diagnose(signals, NOW.astimezone(timezone(timedelta(hours=-5)))), signals)
    assert data["at"] == "2026-03-01T09:00:00Z"
    assert all(m["at"].endswith("Z") for m in data["timeline"])
