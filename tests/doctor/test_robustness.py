"""Whatever a recorder hands in, diagnose answers: never an exception, never an empty or unsorted list,
confidences in 0..1, and the JSON renders. Signals are drawn from a seeded RNG (the same every run)."""

from __future__ import annotations

import json
import random

import pytest

from chargewise.doctor.explain import to_json, to_text
from chargewise.doctor.rules import diagnose
from chargewise.doctor.signals import (
    BootSample,
    ClosedBy,
    CommandSample,
    LinkEvent,
    LinkEventKind,
    PingSample,
    RadioSample,
    SecurityEventSample,
    SessionSample,
    Signals,
    StatusSample,
)
from tests.doctor.cases import T0, at

STATUSES = ("Available", "Preparing", "Charging", "Occupied", "Faulted", "SuspendedEV", "Finishing", "Unavailable")
SECURITY = ("InvalidCsmsCertificate", "StartupOfTheDevice", "ResetOrReboot", "SettingSystemTime", "InvalidMessages")


def _random_signals(rng: random.Random) -> Signals:
    horizon = rng.choice([60, 900, 3600, 86400])

    def t() -> float:
        return rng.uniform(-100, horizon)

    links = []
    for _ in range(rng.randrange(0, 30)):
        kind = rng.choice(list(LinkEventKind))
        by = rng.choice([None, *ClosedBy]) if kind is LinkEventKind.DISCONNECTED else None
        last = at(t()) if rng.random() < 0.5 else None
        links.append(
            LinkEvent(
                at=at(t()),
                kind=kind,
                closed_by=by,
                close_code=rng.choice([None, 1000, 1001, 1006]),
                remote=rng.choice([None, "203.0.113.7", "198.51.100.2"]),
                last_frame_at=last,
                longest_quiet_s=rng.choice([None, rng.uniform(0, 600)]),
            )
        )
    return Signals(
        charger_id="CP-R",
        since=T0,
        known_since=rng.choice([None, at(-3600), at(0)]),
        ever_connected=rng.random() < 0.5,
        heartbeat_interval_s=rng.choice([None, 0.0, 30.0, 300.0]),
        ping_interval_s=rng.choice([None, 0.0, 60.0, 180.0]),
        ping_timeout_s=rng.choice([None, 0.0, 30.0]),
        connected_now=rng.random() < 0.5,
        links=tuple(links),
        pings=tuple(PingSample(at=at(t()), rtt_s=rng.choice([None, 0.01, 2.0])) for _ in range(rng.randrange(40))),
        radio=tuple(
            RadioSample(at=at(t()), rssi_dbm=rng.uniform(-95, -30), bssid=rng.choice([None, "a", "b"]))
            for _ in range(rng.randrange(40))
        ),
        statuses=tuple(
            StatusSample(
                at=at(t()),
                evse_id=rng.randrange(2),
                connector_id=rng.randrange(3),
                status=rng.choice(STATUSES),
                error_code=rng.choice([None, "WeakSignal", "GroundFailure"]),
            )
            for _ in range(rng.randrange(20))
        ),
        boots=tuple(BootSample(at=at(t()), reason="PowerUp") for _ in range(rng.randrange(3))),
        security_events=tuple(
            SecurityEventSample(
                at=at(t()),
                type=rng.choice(SECURITY),
                tech_info=rng.choice([None, "certificate has expired", "reason 202"]),
            )
            for _ in range(rng.randrange(4))
        ),
        heartbeats=tuple(sorted(at(t()) for _ in range(rng.randrange(20)))),
        commands=tuple(
            CommandSample(
                at=at(t()),
                action="TriggerMessage",
                outcome=rng.choice(["ok", "timeout", "offline", "call_error"]),
                duration_s=rng.choice([None, 1.0, 30.0]),
            )
            for _ in range(rng.randrange(20))
        ),
        others_reconnected=rng.choice([None, 0, 5]),
        sessions=tuple(SessionSample(start=at(t()), end=rng.choice([None, at(t())])) for _ in range(rng.randrange(3))),
    )


@pytest.mark.parametrize("seed", range(300))
def test_random_signals_always_get_an_answer(seed: int) -> None:
    rng = random.Random(seed)
    signals = _random_signals(rng)
    now = at(rng.choice([0, 600, 3600, 90000]))
    diagnosis = diagnose(signals, now)
    assert diagnosis.findings
    confidences = [f.confidence for f in diagnosis.findings]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert len({f.cause for f in diagnosis.findings}) == len(diagnosis.findings)
    json.dumps(to_json(diagnosis, signals))
    assert to_text(diagnosis, signals)
