"""The EV: what it draws for an offer, and its charge curve."""

from __future__ import annotations

import pytest

from chargewise.simulator.ev import EV


def ev(**kw: float) -> EV:
    values: dict[str, float] = {"capacity_wh": 60_000, "soc": 0.2, "energy_wanted_wh": 40_000, "departure": 0.0} | kw
    return EV(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offered", "phases", "expected_amps", "expected_phases"),
    [(10.0, 3, 10.0, 1), (48.0, 1, 32.0, 1), (5.9, 1, 0.0, 0), (0.0, 1, 0.0, 0)],
)
def test_draw_is_the_least_of_offer_and_obc_and_nothing_under_6_amps(
    offered: float, phases: int, expected_amps: float, expected_phases: int
) -> None:
    draw = ev(obc_max_a=32, phases=1).draw(offered, phases, 240.0)
    assert (draw.amps, draw.phases) == (expected_amps, expected_phases)


def test_a_three_phase_ev_on_a_single_phase_charger_uses_one_phase() -> None:
    draw = ev(obc_max_a=16, phases=3).draw(32.0, 1, 230.0)
    assert (draw.amps, draw.phases, draw.watts) == (16.0, 1, 3680.0)


def test_charge_curve_is_flat_then_tapers_near_full() -> None:
    car = ev(soc=0.5, energy_wanted_wh=1e9, obc_max_a=32, phases=1)
    flat = car.acceptance_a()
    car.soc = 0.9
    tapered = car.acceptance_a()
    car.soc = 0.999
    assert flat == 32.0 and tapered == pytest.approx(16.0) and car.acceptance_a() == pytest.approx(3.2)


def test_taper_makes_the_last_20_percent_slower_than_the_first() -> None:
    car = ev(capacity_wh=20_000, soc=0.0, energy_wanted_wh=1e9, obc_max_a=16, phases=1)
    first = sum(car.charge(16, 1, 230, 60) for _ in range(60))  # one hour from empty
    car.soc = 0.8
    last = sum(car.charge(16, 1, 230, 60) for _ in range(60))
    assert first == pytest.approx(16 * 230, rel=1e-6) and last < 0.75 * first


def test_stops_at_the_energy_wanted() -> None:
    car = ev(energy_wanted_wh=1000, obc_max_a=32, phases=1)
    assert car.charge(32, 1, 240, 3600) == pytest.approx(1000)
    assert car.done and car.draw(32, 1, 240).watts == 0
