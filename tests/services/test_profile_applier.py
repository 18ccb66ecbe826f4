"""The applier against a charger modelled by the simulator's own profile store and composite schedule
(the firmware's rules, every template's quirks), through a fake link: probe, ladder, only-changed, read-back,
re-apply after a reboot, and a charger too slow to answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargewise.charging.profiles import Step, Target
from chargewise.domain.model import OcppVersion
from chargewise.services.connections import CallOutcome, CallTimeout
from chargewise.services.profile_applier import Failsafe, ProfileApplier
from chargewise.simulator import composite
from chargewise.simulator.profiles import ProfileError, ProfileStore, from_v16, from_v201
from chargewise.simulator.settings import SETTINGS, Settings
from chargewise.simulator.templates import load_template

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
TX = "9"


class FakeCharger:
    """Answers the applier's four commands as the simulated firmware's profile rules would."""

    def __init__(self, template: str, version: OcppVersion) -> None:
        self.template = load_template(template)
        self.version = version
        self.settings = Settings(self.template)
        self.slow = False
        self.reboot()
        self.calls: list[str] = []
        self.now = NOW

    def reboot(self) -> None:
        self.store = ProfileStore(evse_count=self.template.connectors, quirks=self.template.quirks,
                                  replace_same_slot=self.version is OcppVersion.V16)  # fmt: skip

    @property
    def electrical(self) -> composite.Electrical:
        t = self.template
        return composite.Electrical(phases=t.phases, voltage_v=t.voltage_v, max_current_a=t.max_current_a)

    def amps(self, evse: int, at: datetime) -> float:
        ctx = composite.Context(tx_id=TX, tx_start=NOW.timestamp() - 60)
        return composite.limit_at(self.store.relevant(evse), at.timestamp(), evse_id=evse, electrical=self.electrical,
                                  ctx=ctx).amps  # fmt: skip

    async def call(self, charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome:
        if self.slow:
            raise CallTimeout("no answer within 30 s")
        self.calls.append(action)
        return CallOutcome(action=action, payload=getattr(self, "_" + action)(payload))

    def _GetConfiguration(self, p: dict[str, Any]) -> dict[str, Any]:
        keys = [{"key": s.key, "readonly": True, "value": self.settings.get(s.name)} for s in SETTINGS
                if s.key in p["key"]]  # fmt: skip
        return {"configurationKey": keys}

    def _GetVariables(self, p: dict[str, Any]) -> dict[str, Any]:
        by_name = {s.variable: s for s in SETTINGS if s.component == "SmartChargingCtrlr"}
        results = []
        for item in p["getVariableData"]:
            s = by_name.get(item["variable"]["name"])
            found = {"attributeStatus": "Accepted", "attributeValue": self.settings.get(s.name)} if s else {
                "attributeStatus": "UnknownVariable"}  # fmt: skip
            results.append({**item, **found})
        return {"getVariableResult": results}

    def _SetChargingProfile(self, p: dict[str, Any]) -> dict[str, Any]:
        now = self.now.timestamp()
        try:
            if self.version is OcppVersion.V16:
                self.store.install(from_v16(p["csChargingProfiles"], p["connectorId"], now), active_tx=TX)
            else:
                self.store.install(from_v201(p["chargingProfile"], p["evseId"], now), active_tx=TX)
        except ProfileError:
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    def _GetCompositeSchedule(self, p: dict[str, Any]) -> dict[str, Any]:
        evse = p.get("connectorId", p.get("evseId"))
        periods = composite.composite_schedule(
            self.store.relevant(evse), evse_id=evse, start=self.now.timestamp(), duration=p["duration"],
            unit=p["chargingRateUnit"], electrical=self.electrical, ctx=composite.Context(tx_id=TX),
        )  # fmt: skip
        sched = {"chargingRateUnit": p["chargingRateUnit"], "chargingSchedulePeriod": [
            {"startPeriod": x.start, "limit": x.limit, "numberPhases": x.phases} for x in periods]}  # fmt: skip
        if self.version is OcppVersion.V16:
            return {"status": "Accepted", "connectorId": evse, "chargingSchedule": sched}
        return {"status": "Accepted", "schedule": {"evseId": evse, **sched}}


def target(amps: float, charger: FakeCharger) -> Target:
    return Target(evse_id=1, steps=(Step(start_s=0, limit_a=amps, phases=charger.template.phases),),
                  voltage_v=charger.template.voltage_v, transaction_id=TX)  # fmt: skip


@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize("template", ["enelx-juicebox", "esp32-generic", "dual-ac-15118"])
async def test_applies_verifies_and_sends_only_changes(template: str, version: OcppVersion) -> None:
    charger = FakeCharger(template, version)
    applier = ProfileApplier(call=charger.call)
    safe = [Failsafe(evse_id=1, limit_a=6.0, phases=charger.template.phases, voltage_v=charger.template.voltage_v)]
    [done] = await applier.apply("CP1", version, [target(14.0, charger)], NOW, failsafes=safe)
    assert done.accepted and done.sent and done.verdict is not None and done.verdict.ok, done
    assert charger.amps(1, NOW + timedelta(seconds=5)) == pytest.approx(14.0, abs=0.05)
    sent = charger.calls.count("SetChargingProfile")
    # next cycle, same target: nothing goes out
    [again] = await applier.apply("CP1", version, [target(14.0, charger)], NOW + timedelta(seconds=5), failsafes=safe)
    assert not again.sent and again.accepted
    assert charger.calls.count("SetChargingProfile") == sent
    # a new limit goes out, the failsafe does not
    charger.now = NOW + timedelta(seconds=10)
    [changed] = await applier.apply("CP1", version, [target(9.0, charger)], charger.now, failsafes=safe)
    assert changed.sent and changed.verdict is not None and changed.verdict.ok
    assert charger.calls.count("SetChargingProfile") == sent + 1
    assert charger.amps(1, charger.now + timedelta(seconds=1)) == pytest.approx(9.0, abs=0.05)


async def test_a_tx_default_only_charger_is_reached_by_the_ladder_and_probed_once() -> None:
    charger = FakeCharger("enelx-juicebox", OcppVersion.V16)
    applier = ProfileApplier(call=charger.call)
    [done] = await applier.apply("CP1", OcppVersion.V16, [target(20.0, charger)], NOW)
    assert done.purpose == "tx-default" and done.accepted
    assert applier.capabilities("CP1").max_stack_level == 1
    await applier.apply("CP1", OcppVersion.V16, [target(18.0, charger)], NOW + timedelta(seconds=5))
    assert charger.calls.count("GetConfiguration") == 1
    assert charger.calls.count("SetChargingProfile") == 3  # TxProfile refused, TxDefault accepted, then 18 A


async def test_after_a_reboot_everything_is_sent_again() -> None:
    charger = FakeCharger("esp32-generic", OcppVersion.V201)
    applier = ProfileApplier(call=charger.call)
    safe = [Failsafe(evse_id=1, limit_a=6.0)]
    await applier.apply("CP1", OcppVersion.V201, [target(16.0, charger)], NOW, failsafes=safe)
    charger.reboot()  # lost its profiles; the link dropped and came back
    applier.forget("CP1")
    assert charger.amps(1, NOW) == pytest.approx(charger.template.max_current_a)
    [done] = await applier.apply("CP1", OcppVersion.V201, [target(16.0, charger)], NOW, failsafes=safe)
    assert done.sent and done.verdict is not None and done.verdict.ok
    assert charger.amps(1, NOW + timedelta(seconds=1)) == pytest.approx(16.0, abs=0.05)
    assert charger.amps(1, NOW + timedelta(minutes=11)) == pytest.approx(6.0, abs=0.05)  # lease over: failsafe


async def test_a_slow_charger_is_reported_and_tried_again() -> None:
    charger = FakeCharger("esp32-generic", OcppVersion.V16)
    applier = ProfileApplier(call=charger.call)
    charger.slow = True
    [failed] = await applier.apply("CP1", OcppVersion.V16, [target(16.0, charger)], NOW)
    assert not failed.accepted and "no answer" in failed.detail
    charger.slow = False
    [done] = await applier.apply("CP1", OcppVersion.V16, [target(16.0, charger)], NOW + timedelta(seconds=5))
    assert done.accepted and done.sent
