"""Acceptance of the connectivity doctor: the simulator's twelve network scenarios against one in-process
server, each on three seeds x both OCPP versions (72 chargers at once), and the doctor names the right root
cause first in at least 90 % of the runs, with evidence, and never raises an alarm on a healthy charger.

How time is compressed (details in ``bench/doctor.py``): the simulator runs 60 times faster than real time and
the server runs on a clock injected at the same speed, so what it records (timestamps, heartbeat interval,
reconnect delays) is in simulated seconds, like the doctor's thresholds; its own event-loop timers (WebSocket
ping interval and timeout) are divided by the speed. The doctor sees opaque charger ids, never a scenario.
About 50 s of real time for 2,800 simulated seconds; ``python -m bench.doctor`` prints the confusion matrix.
"""

from __future__ import annotations

import asyncio

import pytest
from bench.doctor import EXPECTED, Outcome, accuracy, confusion, run_suite

from chargewise.doctor.findings import Cause

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    """One run for the module's tests (on its own event loop: the run is the module's, not a test's)."""
    return asyncio.run(run_suite(data_dir=tmp_path_factory.mktemp("doctor-scenarios")))


def test_every_scenario_ran_three_seeds_on_both_versions(outcomes: list[Outcome]) -> None:
    assert sorted(confusion(outcomes)) == sorted(EXPECTED)
    assert all(sum(counts.values()) == 6 for counts in confusion(outcomes).values())


def test_the_right_root_cause_comes_first_in_nine_runs_of_ten(outcomes: list[Outcome]) -> None:
    wrong = [(o.scenario, o.version.value, o.seed, o.diagnosis.cause.value) for o in outcomes if not o.right]
    assert accuracy(outcomes) >= 0.9, wrong


def test_every_problem_named_comes_with_evidence_and_a_fix(outcomes: list[Outcome]) -> None:
    for o in outcomes:
        first = o.diagnosis.findings[0]
        if first.cause is not Cause.HEALTHY:
            assert first.evidence and first.fix and first.summary, (o.scenario, first)


def test_no_false_alarm_on_healthy_chargers(outcomes: list[Outcome]) -> None:
    healthy = [o for o in outcomes if o.scenario == "healthy"]
    assert healthy and all(o.diagnosis.cause is Cause.HEALTHY for o in healthy), [
        o.diagnosis.findings[0] for o in healthy if o.diagnosis.cause is not Cause.HEALTHY]  # fmt: skip
