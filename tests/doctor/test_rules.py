"""Table-driven: every case in ``cases/rules/*.json`` (see ``cases.py`` for the format) is diagnosed and held to its
expected first cause and minimum confidence, or to the causes it must not raise."""

from __future__ import annotations

from typing import Any

import pytest

from chargewise.doctor import thresholds as th
from chargewise.doctor.findings import Cause
from chargewise.doctor.rules import diagnose
from tests.doctor.cases import build, load_cases

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}:{c['name']}" for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    signals, now = build(case)
    diagnosis = diagnose(signals, now)
    first = diagnosis.findings[0]
    expect = case["expect"]
    listing = "; ".join(f"{f.cause}={f.confidence}" for f in diagnosis.findings)
    if "cause" in expect:
        assert first.cause == Cause(expect["cause"]), listing
        assert first.confidence >= expect.get("min_confidence", th.ALARM), listing
        if first.cause is not Cause.HEALTHY:
            assert first.evidence, "a problem comes with evidence"
    for cause in expect.get("not", []):
        raised = [f for f in diagnosis.findings if f.cause == Cause(cause) and f.confidence >= th.ALARM]
        assert not raised, listing
    if "tells_apart" in expect:
        text = " ".join(first.tells_apart)
        for word in expect["tells_apart"]:
            assert word in text, text


def test_every_cause_has_positive_and_negative_cases() -> None:
    firsts = {c["expect"].get("cause") for c in CASES}
    problems = set(Cause) - {Cause.HEALTHY}
    assert problems <= firsts, f"no positive case for {problems - firsts}"
    negated = {x for c in CASES for x in c["expect"].get("not", [])}
    assert problems <= negated, f"no negative case for {problems - negated}"


@pytest.mark.parametrize("case", CASES[:: max(1, len(CASES) // 8)], ids=lambda c: c["name"])
def test_findings_are_sorted_and_never_empty(case: dict[str, Any]) -> None:
    signals, now = build(case)
    findings = diagnose(signals, now).findings
    assert findings
    assert [f.confidence for f in findings] == sorted((f.confidence for f in findings), reverse=True)
    assert len({f.cause for f in findings}) == len(findings)
    assert all(0.0 <= f.confidence <= 1.0 and f.summary and f.fix for f in findings)


def test_time_compression_keeps_the_verdict() -> None:
    """The same charger with every timer ten times faster gets the same first cause (thresholds are relative)."""
    for case in CASES:
        slow, fast = diagnose(*build(case)).findings[0], diagnose(*build(_scaled(case, 0.1))).findings[0]
        assert fast.cause == slow.cause, case["name"]
        assert abs(fast.confidence - slow.confidence) <= 0.051, case["name"]


def _scaled(case: dict[str, Any], k: float) -> dict[str, Any]:
    def scale(value: Any, key: str = "") -> Any:
        if key in ("rtt", "close_code", "level", "wiggle", "car_loss", "others_reconnected", "rssi"):
            return value
        if isinstance(value, bool | str):
            return value
        if key in ("statuses", "steps", "radio") and isinstance(value, list):  # rows [t, ...]: only t scales
            return [[row[0] * k, *row[1:]] for row in value]
        if key == "burst":  # [t, n, spacing, action, outcome]
            return [value[0] * k, value[1], value[2] * k, *value[3:]]
        if isinstance(value, int | float):
            return value * k
        if isinstance(value, list):
            return [scale(v, key) for v in value]
        if isinstance(value, dict):
            return {kk: scale(v, kk) for kk, v in value.items()}
        return value

    timers = {"heartbeat_interval_s": 300, "ping_interval_s": 60, "ping_timeout_s": 30}  # build()'s defaults
    return {**case, "now": case["now"] * k, "signals": scale({**timers, **case["signals"]})}
