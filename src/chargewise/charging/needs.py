"""What one session may be given this cycle, before sharing: its cap (the EVSE maximum, lowered by its mode,
by what it is seen to draw, and by the ramp bound), how many phases it draws on, and its place in the queue.

Closed loop: a car drawing ``taper_gap_a`` or more under the limit it was given is not using it (tapering, full,
or a single-phase car counted on one phase only once :mod:`chargewise.charging.phases` is sure), so its cap
becomes what it draws plus ``probe_a``: enough to show that it can draw more, after which the ramp lets it
rise again by ``ramp_a`` a cycle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from chargewise.charging.phases import PhaseGuess, detect
from chargewise.charging.site import Evse, Mode
from chargewise.charging.state import Cause, EvseLimit, EvseState, Policy, PolicyKind

STEP_A = 0.1 + 1e-9  # limits are rounded down to 0.1 A


@dataclass(frozen=True, kw_only=True, slots=True)
class Need:
    evse: Evse
    mode: Mode
    cap_a: float  # the most it may be given this cycle (0: none wanted now)
    cap_cause: Cause
    phases: int
    guess: PhaseGuess | None
    group: float  # sharing order: lower groups are served first (priority, laxity)
    rank: tuple[int, float, str]  # admission order within a group when not all reach the minimum
    on: bool  # it had a limit above 0 last cycle
    since: datetime | None
    stay_one_phase: bool = False  # switched to one phase less than ``phase_hold_s`` ago: not back to three yet


def need(evse: Evse, state: EvseState, previous: EvseLimit | None, now: datetime, policy: Policy) -> Need:
    """The session's :class:`Need`; ``previous`` is its limit last cycle (``None`` for a new session)."""
    mode = state.mode or evse.mode
    guess = previous.guess if previous is not None else None
    switched = previous is not None and previous.phases == 1 and evse.phases == 3 and not (guess and guess.phases == 1)
    if state.measured_a is not None and not switched:
        guess = detect(state.measured_a, guess)  # on one phase by our switching, it says nothing about the car
    car = state.car_phases or (guess.phases if guess is not None else None) or evse.phases
    phases = min(evse.phases, car)
    cap, cause = evse.max_a, Cause.EV_MAX
    if state.cap_a is not None and state.cap_a < cap:
        cap, cause = max(0.0, state.cap_a), Cause.EXTERNAL
    if mode is Mode.PLAN and state.target_a is not None and state.target_a < cap:
        cap, cause = max(0.0, state.target_a), Cause.PLAN
    last = previous.limit_a if previous is not None else 0.0
    if last > 0 and state.measured_a is not None:
        drawn = max(state.measured_a) if phases == 3 else state.measured_a[0]
        # held at drawn + probe, it shows a gap of ``probe_a`` next cycle: still unused when taper_gap <= probe
        # (the defaults), so it stays held instead of probing up every other cycle; 0.1 A: the limit's rounding
        if drawn + policy.taper_gap_a <= last + STEP_A and drawn + policy.probe_a < cap:
            cap, cause = max(evse.min_a, drawn + policy.probe_a), Cause.UNUSED
    ramp = last + policy.ramp_a if last > 0 else max(evse.min_a, policy.ramp_a)
    if ramp < cap:
        cap, cause = ramp, Cause.RAMP
    on = last > 0
    since = previous.since if previous is not None else None
    stay = (evse.phase_switching and phases == 3 and previous is not None and on and previous.phases == 1
            and previous.phases_since is not None
            and (now - previous.phases_since).total_seconds() < policy.phase_hold_s)  # fmt: skip
    return Need(evse=evse, mode=mode, cap_a=cap, cap_cause=cause, phases=phases, guess=guess,
                group=_group(evse, state, now, policy, phases), rank=_rank(evse.id, on, since, now, policy),
                on=on, since=since, stay_one_phase=stay)  # fmt: skip


def _group(evse: Evse, state: EvseState, now: datetime, policy: Policy, phases: int) -> float:
    """Priority: the higher first. Deadline: the least laxity first (time to departure minus the time the
    energy takes at full rate; Dertouzos & Mok, LLF), to the minute so near-equals share fairly."""
    if policy.kind is PolicyKind.PRIORITY:
        return -float(state.priority if state.priority is not None else evse.priority)
    if policy.kind is PolicyKind.DEADLINE:
        if state.departure is None or state.energy_kwh is None:
            return math.inf
        full_rate_w = evse.max_a * evse.voltage_v * phases
        laxity_s = (state.departure - now).total_seconds() - state.energy_kwh * 3.6e6 / full_rate_w
        return float(math.floor(laxity_s / 60.0))
    return 0.0


def _rank(evse_id: str, on: bool, since: datetime | None, now: datetime, policy: Policy) -> tuple[int, float, str]:
    """Who reaches the minimum first when not all can: those that started charging less than ``rotation_s``
    ago, then those waiting (longest first), then those charging longest (they yield, so everyone gets a turn)."""
    held = (now - since).total_seconds() if since is not None else 0.0
    if on and held < policy.rotation_s:
        return (0, 0.0, evse_id)
    if not on:
        return (1, -held, evse_id)
    return (2, held, evse_id)
