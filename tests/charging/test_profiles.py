"""The profile compiler against the simulator's charger model: every template's quirks (TxDefaultProfile only,
amps only, stack level 1, few periods), both OCPP versions. The simulator's ProfileStore refuses what the
template refuses and its composite schedule is computed as the specs define it, so these tests check that what
we compile is accepted (walking the fallback ladder when refused), is what the charger then applies, falls
back to the failsafe when the lease ends, and that the read-back catches a charger that allows more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargewise.charging import capabilities
from chargewise.charging.capabilities import Capabilities, Purpose
from chargewise.charging.profiles import (
    Compiled,
    Sent,
    Step,
    Target,
    composite_request,
    control,
    failsafe,
    merge,
    needs_send,
)  # fmt: skip
from chargewise.charging.verify import verify
from chargewise.domain.model import OcppVersion
from chargewise.simulator import composite
from chargewise.simulator.profiles import ProfileError, ProfileStore, from_v16, from_v201
from chargewise.simulator.settings import SETTINGS, Settings
from chargewise.simulator.templates import load_template, template_names

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
TX = "417"


def probed(template_name: str, version: OcppVersion) -> Capabilities:
    """What the applier reads from a charger of this template: its configuration keys or variables."""
    settings = Settings(load_template(template_name))
    values: dict[str, str] = {}
    for s in SETTINGS:
        name = s.key if version is OcppVersion.V16 else s.variable
        if name is None or (version is OcppVersion.V201 and s.component is None):
            continue
        values[name] = settings.get(s.name)
    return capabilities.from_v16(values) if version is OcppVersion.V16 else capabilities.from_v201(values)


def install(store: ProfileStore, compiled: Compiled, version: OcppVersion, now: float) -> None:
    if version is OcppVersion.V16:
        raw, evse = compiled.payload["csChargingProfiles"], compiled.payload["connectorId"]
        store.install(from_v16(raw, evse, now), active_tx=TX)
    else:
        raw, evse = compiled.payload["chargingProfile"], compiled.payload["evseId"]
        store.install(from_v201(raw, evse, now), active_tx=TX)


def apply(
    store: ProfileStore, target: Target, caps: Capabilities, version: OcppVersion
) -> tuple[Compiled, Capabilities]:
    """Walk the ladder as the applier does: a refused purpose is dropped and the next one tried."""
    while True:
        compiled = control(target, caps, version, NOW)
        try:
            install(store, compiled, version, NOW.timestamp())
            return compiled, caps
        except ProfileError:
            caps = caps.without(compiled.purpose)


@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize("template_name", template_names())
def test_every_template_applies_the_control_limit_and_falls_back_to_the_failsafe(
    template_name: str, version: OcppVersion
) -> None:
    template = load_template(template_name)
    caps = probed(template_name, version)
    assert caps.max_stack_level == template.quirks.max_stack_level
    assert caps.rate_units == frozenset(template.quirks.rate_units)
    store = ProfileStore(evse_count=template.connectors, quirks=template.quirks,
                         replace_same_slot=version is OcppVersion.V16)  # fmt: skip
    phases = template.phases
    safe = failsafe(1, 6.0, phases, caps, version, NOW, voltage_v=template.voltage_v)
    install(store, safe, version, NOW.timestamp())
    target = Target(evse_id=1, steps=(Step(start_s=0, limit_a=13.0, phases=phases),), voltage_v=template.voltage_v,
                    transaction_id=TX)  # fmt: skip
    _compiled, caps = apply(store, target, caps, version)
    electrical = composite.Electrical(phases=phases, voltage_v=template.voltage_v, max_current_a=template.max_current_a)
    ctx = composite.Context(tx_id=TX, tx_start=NOW.timestamp() - 60)

    def amps_at(t: datetime) -> float:
        limit = composite.limit_at(store.relevant(1), t.timestamp(), evse_id=1, electrical=electrical, ctx=ctx)
        return limit.amps

    assert amps_at(NOW + timedelta(seconds=1)) == pytest.approx(13.0, abs=0.05)
    # the lease ends: nothing renewed it (backend gone), the charger holds the failsafe
    assert amps_at(NOW + timedelta(minutes=11)) == pytest.approx(6.0, abs=0.05)
    # read-back: the charger's composite schedule, in the unit we asked for
    unit = caps.unit()
    periods = composite.composite_schedule(store.relevant(1), evse_id=1, start=NOW.timestamp(), duration=300,
                                           unit=unit, electrical=electrical, ctx=ctx)  # fmt: skip
    sched = {"chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": p.start, "limit": p.limit, "numberPhases": p.phases} for p in periods]}  # fmt: skip
    answer = ({"status": "Accepted", "connectorId": 1, "chargingSchedule": sched} if version is OcppVersion.V16
              else {"status": "Accepted", "schedule": {"evseId": 1, **sched}})  # fmt: skip
    assert verify(version, target, answer).ok


def test_a_tx_default_only_charger_gets_tx_default_profiles() -> None:
    template = load_template("enelx-juicebox")
    assert "tx" not in template.quirks.profile_purposes  # the quirk this test is about
    store = ProfileStore(evse_count=1, quirks=template.quirks)
    target = Target(evse_id=1, steps=(Step(start_s=0, limit_a=20.0),), transaction_id=TX)
    compiled, _caps = apply(store, target, probed("enelx-juicebox", OcppVersion.V16), OcppVersion.V16)
    assert compiled.purpose is Purpose.TX_DEFAULT
    assert compiled.stack_level == 1  # its maximum
    assert compiled.payload["csChargingProfiles"]["chargingSchedule"]["chargingRateUnit"] == "A"


def test_watts_for_a_charger_that_takes_only_watts() -> None:
    caps = Capabilities(rate_units=frozenset({"W"}), max_stack_level=3)
    target = Target(evse_id=2, steps=(Step(start_s=0, limit_a=16.0, phases=3),), voltage_v=230.0)
    compiled = control(target, caps, OcppVersion.V201, NOW)
    schedule = compiled.payload["chargingProfile"]["chargingSchedule"][0]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 11040.0, "numberPhases": 3}]
    assert compiled.purpose is Purpose.TX_DEFAULT  # no transaction: no TxProfile
    assert compiled.payload["evseId"] == 2 and compiled.stack_level == 3


def test_the_tx_profile_names_its_transaction() -> None:
    caps = Capabilities(max_stack_level=2)
    target = Target(evse_id=1, steps=(Step(start_s=0, limit_a=10.0),), transaction_id="77")
    v16 = control(target, caps, OcppVersion.V16, NOW).payload["csChargingProfiles"]
    v201 = control(target, caps, OcppVersion.V201, NOW).payload["chargingProfile"]
    assert v16["transactionId"] == 77 and v16["chargingProfilePurpose"] == "TxProfile"
    assert v201["transactionId"] == "77" and v201["validTo"] == "2026-12-02T01:10:00Z"


@pytest.mark.parametrize(
    ("limits", "max_periods", "expected"),
    [
        ([16, 16, 10, 10, 32], 24, [(0, 16), (2, 10), (4, 32)]),  # equal neighbours collapse
        ([16, 15, 10, 32], 2, [(0, 10), (3, 32)]),  # closest neighbours merge to the lower limit
        ([8, 32, 8, 32], 1, [(0, 8)]),
    ],
)
def test_merge_never_allows_more_than_planned(
    limits: list[float], max_periods: int, expected: list[tuple[int, float]]
) -> None:
    steps = tuple(Step(start_s=i, limit_a=a) for i, a in enumerate(limits))
    merged = merge(steps, max_periods)
    assert [(s.start_s, s.limit_a) for s in merged] == expected
    for i, planned in enumerate(limits):  # at every offset the merged limit is at most the planned one
        assert [s for s in merged if s.start_s <= i][-1].limit_a <= planned


def test_only_changes_and_half_used_leases_are_sent() -> None:
    caps = Capabilities(max_stack_level=2)
    target = Target(evse_id=1, steps=(Step(start_s=0, limit_a=10.0),))
    first = control(target, caps, OcppVersion.V16, NOW)
    sent = Sent(fingerprint=first.fingerprint, at=NOW, valid_to=first.valid_to)
    assert needs_send(None, first, NOW)
    later = control(target, caps, OcppVersion.V16, NOW + timedelta(minutes=2))
    assert not needs_send(sent, later, NOW + timedelta(minutes=2))  # same limit, lease fresh
    assert needs_send(sent, later, NOW + timedelta(minutes=5))  # half the 10-minute lease gone: renew
    changed = control(Target(evse_id=1, steps=(Step(start_s=0, limit_a=12.0),)), caps, OcppVersion.V16, NOW)
    assert needs_send(sent, changed, NOW + timedelta(seconds=5))
    safe = failsafe(1, 6.0, 1, caps, OcppVersion.V16, NOW)
    assert not needs_send(Sent(fingerprint=safe.fingerprint, at=NOW, valid_to=None), safe, NOW + timedelta(days=9))


@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize("template_name", template_names())
def test_a_plans_drop_within_the_lease_is_held_by_the_charger_at_its_second(
    template_name: str, version: OcppVersion
) -> None:
    """A multi-period control profile (a plan that stops the car at the next slot edge): every template holds
    13 A until the edge and 0 from it, and the same edge compiled a cycle later is no change to send."""
    template = load_template(template_name)
    caps = probed(template_name, version)
    store = ProfileStore(evse_count=template.connectors, quirks=template.quirks,
                         replace_same_slot=version is OcppVersion.V16)  # fmt: skip
    phases = template.phases
    install(store, failsafe(1, 6.0, phases, caps, version, NOW, voltage_v=template.voltage_v), version,
            NOW.timestamp())  # fmt: skip
    edge = NOW + timedelta(seconds=450)

    def target(now: datetime) -> Target:
        steps = (Step(start_s=0, limit_a=13.0, phases=phases),
                 Step(start_s=int((edge - now).total_seconds()), limit_a=0.0, phases=phases))  # fmt: skip
        return Target(evse_id=1, steps=steps, voltage_v=template.voltage_v, transaction_id=TX)

    compiled, caps = apply(store, target(NOW), caps, version)
    electrical = composite.Electrical(phases=phases, voltage_v=template.voltage_v, max_current_a=template.max_current_a)
    ctx = composite.Context(tx_id=TX, tx_start=NOW.timestamp() - 60)

    def amps_at(t: datetime) -> float:
        return composite.limit_at(store.relevant(1), t.timestamp(), evse_id=1, electrical=electrical, ctx=ctx).amps

    assert amps_at(edge - timedelta(seconds=1)) == pytest.approx(13.0, abs=0.05)
    assert amps_at(edge) == pytest.approx(0.0, abs=0.05)
    assert amps_at(NOW + timedelta(minutes=11)) == pytest.approx(6.0, abs=0.05)  # lease over: the failsafe
    sent = Sent(fingerprint=compiled.fingerprint, at=NOW, valid_to=compiled.valid_to)
    later = NOW + timedelta(seconds=4)
    assert not needs_send(sent, control(target(later), caps, version, later), later)
    moved = Target(evse_id=1, steps=(target(later).steps[0], Step(start_s=500, limit_a=0.0, phases=phases)),
                   voltage_v=template.voltage_v, transaction_id=TX)  # fmt: skip
    assert needs_send(sent, control(moved, caps, version, later), later)  # the edge moved: sent again


def test_read_back_refuses_a_charger_that_allows_more() -> None:
    target = Target(evse_id=1, steps=(Step(start_s=0, limit_a=10.0), Step(start_s=600, limit_a=6.0)))
    sched = {"chargingRateUnit": "A", "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 10.0}, {"startPeriod": 600, "limit": 16.0}]}  # fmt: skip
    verdict = verify(OcppVersion.V201, target, {"status": "Accepted", "schedule": {"evseId": 1, **sched}})
    assert not verdict.ok and "16.0 A" in verdict.detail
    lower = {"status": "Accepted", "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 1380.0, "numberPhases": 1}]}}  # fmt: skip
    assert verify(OcppVersion.V16, target, lower).ok  # 6 A: lower than planned is safe
    assert not verify(OcppVersion.V16, target, {"status": "Rejected"}).ok


def test_composite_request_per_version() -> None:
    assert composite_request(OcppVersion.V16, 1, 900) == {"connectorId": 1, "duration": 900, "chargingRateUnit": "A"}
    assert composite_request(OcppVersion.V201, 2, 60, "W") == {"evseId": 2, "duration": 60, "chargingRateUnit": "W"}


def test_probe_reads_rate_units_in_either_spelling() -> None:
    assert capabilities.from_v16({"ChargingScheduleAllowedChargingRateUnit": "Current"}).rate_units == {"A"}
    assert capabilities.from_v201({"RateUnit": "A,W"}).rate_units == {"A", "W"}
    assert capabilities.from_v16({"ChargeProfileMaxStackLevel": "junk"}).max_stack_level == 1
