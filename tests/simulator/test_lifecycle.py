"""The reconnect back-off (lifecycle rule 3): doubling from the minimum, capped, plus bounded jitter."""

from __future__ import annotations

from chargewise.simulator.lifecycle import reconnect_wait
from chargewise.simulator.rng import Rng
from chargewise.simulator.settings import Settings
from chargewise.simulator.templates import load_template


def settings(minimum: int, random_range: int, repeat: int) -> Settings:
    s = Settings(load_template("esp32-generic"))
    s.set("backoff_minimum", str(minimum))
    s.set("backoff_random", str(random_range))
    s.set("backoff_repeat", str(repeat))
    return s


def test_the_wait_doubles_per_failure_up_to_the_repeat_count() -> None:
    s, rng = settings(30, 0, 2), Rng("back-off")
    assert [reconnect_wait(n, s, rng) for n in range(5)] == [30.0, 60.0, 120.0, 120.0, 120.0]


def test_the_jitter_stays_within_the_random_range_and_follows_the_seed() -> None:
    s = settings(3, 10, 5)
    waits = [reconnect_wait(0, s, Rng(f"seed-{i}")) for i in range(200)]
    assert all(3.0 <= w <= 13.0 for w in waits) and max(waits) - min(waits) > 5  # spread over the range
    assert reconnect_wait(4, s, Rng("same")) == reconnect_wait(4, s, Rng("same"))
