"""The demo site's layout (pure) and its live table."""

from __future__ import annotations

from rich.console import Console

from chargewise.simulator.site import chargers_table, demo_specs

from .ocpp_csms import Csms
from .test_runner import Runner

T0 = 1_750_000_000.0


def test_two_homes_and_a_workplace_with_twenty_mixed_chargers_and_a_few_faults() -> None:
    placed = demo_specs(seed=1, start=T0)
    assert len(placed) == 20
    assert {p.site for p, _ in placed} == {"home-1", "home-2", "workplace"}
    assert {s.version.value for _, s in placed} == {"1.6", "2.0.1"}
    faulty = {p.scenario for p, _ in placed} - {"healthy"}
    assert faulty == {"car-in-path", "sticky-mesh", "weak-rssi"}
    soon = [s for _, s in placed if any(v.arrive_s <= T0 + 60 for v in s.visits)]
    assert len(soon) >= 12  # EVs parked at start: charging within the first minute


def test_the_same_seed_gives_the_same_site() -> None:
    assert demo_specs(seed=4, start=T0) == demo_specs(seed=4, start=T0)


async def test_live_table_renders_while_running() -> None:
    placed = demo_specs(seed=2, start=T0)
    async with Csms() as csms:
        runner = Runner([s for _, s in placed[:3]], url=csms.url, speed=60)
        await runner.start()
        try:
            await csms.wait_for(lambda: runner.summary().boots >= 3, 10)
            console = Console(width=160, record=True)
            console.print(chargers_table(runner.views()))
        finally:
            await runner.stop()
    text = console.export_text()
    assert "3/3 chargers online" in text and "home1-flex" in text
