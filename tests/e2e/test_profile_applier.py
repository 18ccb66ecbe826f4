"""The profile applier against simulated chargers over real WebSockets: templates with quirks (TxDefaultProfile
only, amps only, stack level 1; slow answers), both OCPP versions; the charger's EV then draws what was set,
the telemetry shows it, and after a reboot the profiles are put back."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from chargewise.charging.profiles import Step, Target
from chargewise.domain.model import OcppVersion
from chargewise.services.profile_applier import Failsafe, ProfileApplier
from chargewise.simulator.templates import load_template
from tests.conftest import RunningServer
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import Runner, spec


def tx_id(runner: Runner) -> str | None:
    """The OCPP transactionId of the running transaction: the charger's own (2.0.1), or the one the server
    assigned (1.6)."""
    fw = runner.drivers[0].fw
    tx = fw.connectors[0].tx
    return None if tx is None else tx.id or fw.station.tx_ids.get(tx.local)


def target_for(runner: Runner, amps: float) -> Target:
    fw = runner.drivers[0].fw
    return Target(evse_id=1, steps=(Step(start_s=0, limit_a=amps, phases=fw.template.phases),),
                  voltage_v=fw.template.voltage_v, transaction_id=tx_id(runner))  # fmt: skip


@pytest.mark.parametrize(
    ("template", "version"),
    [("enelx-juicebox", OcppVersion.V16), ("esp32-generic", OcppVersion.V201), ("dual-ac-15118", OcppVersion.V201),
     ("tesla-wall-connector", OcppVersion.V16)],
)  # fmt: skip
async def test_the_ev_draws_what_the_applier_set_and_again_after_a_reboot(
    server: RunningServer, template: str, version: OcppVersion
) -> None:
    start = time.time()
    charger_id = f"APPLY-{template}"
    runner = Runner([spec(charger_id, version, tpl=load_template(template), start=start)], url=server.ocpp_url,
                    speed=60, start=start)  # fmt: skip
    applier = ProfileApplier(call=server.app.registry.call)
    await runner.start()
    try:
        fw = runner.drivers[0].fw
        await until(
            lambda: tx_id(runner) is not None and charger_id in server.app.registry,
            15,
        )
        safe = [Failsafe(evse_id=1, limit_a=6.0, phases=fw.template.phases, voltage_v=fw.template.voltage_v)]
        [done] = await applier.apply(charger_id, version, [target_for(runner, 10.0)], datetime.now(UTC), failsafes=safe)
        assert done.accepted and done.verdict is not None and done.verdict.ok, done
        if template == "enelx-juicebox":
            assert done.purpose == "tx-default"  # it refuses TxProfile: the ladder found the next rung
        await until(lambda: abs(fw.connectors[0].draw.amps - 10.0) < 0.05, 5)
        telemetry = server.app.central.telemetry
        await until(lambda: (s := telemetry.evse(charger_id, 1)) is not None and 9.0 < max(s.currents_a.values(), default=0) < 10.5, 10)  # fmt: skip
        # reboot: the charger loses its profiles; the applier forgets its record when the link drops
        reset = {"type": "Hard"} if version is OcppVersion.V16 else {"type": "Immediate"}
        await server.app.registry.call(charger_id, "Reset", reset)
        await until(lambda: charger_id not in server.app.registry, 15)
        applier.forget(charger_id)
        await until(lambda: charger_id in server.app.registry and runner.drivers[0].fw.registered, 30)
        fw = runner.drivers[0].fw
        # the Reset stopped the transaction: between sessions the control profile is a TxDefaultProfile
        idle = Target(evse_id=1, steps=(Step(start_s=0, limit_a=8.0, phases=fw.template.phases),),
                      voltage_v=fw.template.voltage_v)  # fmt: skip
        [again] = await applier.apply(charger_id, version, [idle], datetime.now(UTC), failsafes=safe)
        assert again.sent and again.accepted and again.purpose == "tx-default", again
        assert again.verdict is not None and again.verdict.ok, again
        assert sorted(p.id for p in fw.station.profiles.profiles if p.id >= 9000) == [9001, 9501]
    finally:
        await runner.stop()
    assert runner.errors() == []
