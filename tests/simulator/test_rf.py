"""RF physics: the worked examples of connectivity.md and the RSSI anchors."""

from __future__ import annotations

import random

import pytest

from chargewise.simulator import rf


def test_worked_example_concrete_garage_at_12_m() -> None:
    # connectivity.md 1.3: AP at 20 dBm EIRP, 12 m, an interior stud wall and a 200 mm concrete garage wall
    rssi = 20 - rf.path_loss_db(12, ("stud-wall", "concrete-200mm"))
    assert rssi == pytest.approx(-59.8, abs=0.1)
    # the same path at 5 GHz (23 dBm EIRP): the table's -75 dBm, within a dB of rounding
    assert 23 - rf.path_loss_db(12, ("stud-wall", "concrete-200mm"), 5.0) == pytest.approx(-75, abs=1)


def test_car_blockage_is_about_9_db_below_the_roofline_and_5_above() -> None:
    rng = random.Random(1)
    below = [rf.car_loss_db(rng, ap_above_roofline=False) for _ in range(4000)]
    above = [rf.car_loss_db(rng, ap_above_roofline=True) for _ in range(4000)]
    assert sum(below) / len(below) == pytest.approx(9.1, abs=0.4)  # N(9, 4.5) clipped at 0
    assert sum(above) / len(above) == pytest.approx(5.4, abs=0.4)


@pytest.mark.parametrize(("rssi", "lo", "hi"), [(-70, 50_000, 200_000), (-75, 1_000, 10_000), (-80, 30, 120)])
def test_mean_time_between_drops_anchors(rssi: float, lo: float, hi: float) -> None:
    assert lo <= rf.mean_time_between_drops_s(rssi) <= hi


def test_latency_grows_as_the_signal_weakens() -> None:
    rng = random.Random(2)
    means = [sum(rf.latency_s(r, rng) for _ in range(2000)) / 2000 for r in (-55, -70, -78, -84)]
    assert means == sorted(means) and means[0] == pytest.approx(0.003)


def test_unknown_wall_material_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: stud-wall"):
        rf.path_loss_db(5, ("adamantium",))
