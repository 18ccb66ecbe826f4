"""What :func:`chargewise.charging.allocate.allocate` reads each cycle (the site's live state and the policy) and
what it returns (an :class:`Allocation` that explains itself per EVSE). All values, no behaviour.

Currents in :class:`EvseState` are in the EVSE's own phase order (as its meter values report them); limits in
:class:`EvseLimit` are amps per phase on ``phases`` phases, ready for an OCPP charging profile (``limit_a`` with
``numberPhases = phases``, or ``limit_w`` for a charger that takes watts).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from chargewise.charging.phases import PhaseGuess
from chargewise.charging.site import Mode
from chargewise.charging.solar import SurplusClock


class PolicyKind(enum.StrEnum):
    FAIR = "fair"  # max-min fair share (water-filling) over every node and phase
    PRIORITY = "priority"  # higher ``priority`` first, fair within a level
    DEADLINE = "deadline"  # least laxity first (energy remaining and departure), fair among equals


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    """How to share. Defaults suit a reconcile cycle of a few seconds to a minute."""

    kind: PolicyKind = PolicyKind.FAIR
    margin_a: float = 1.0  # kept free under every per-phase limit (meter error, cars overshooting their limit)
    ramp_a: float = 10.0  # most a limit may rise per cycle; decreases are immediate
    probe_a: float = 2.0  # headroom left above what a car draws when it draws less than offered
    taper_gap_a: float = 2.0  # a car drawing this much under its limit is not using it all (keep <= probe_a)
    rotation_s: float = 900.0  # an EVSE charging at least this long yields to one waiting, when not all fit
    stagger: bool = True  # hold increases until the decreases making room are in force (see transition.py)
    phase_hold_s: float = 300.0  # an EVSE switched to one phase goes back to three no sooner (cars need a pause)
    solar_delay_s: float = 60.0  # a solar session starts or stops once the surplus has (not) sufficed this long


@dataclass(frozen=True, kw_only=True, slots=True)
class EvseState:
    """One EVSE now. ``session``: a car is plugged in and wants energy. ``measured_a``: the last per-phase current
    reading (EVSE phase order), ``None`` when none came. ``mode``/``priority`` override the site file's defaults.
    ``target_a``: the planner's current for this cycle (mode ``plan``). ``energy_kwh``/``departure``: what the
    deadline policy ranks by. ``car_phases``: when the car told (2.0.1 NotifyEVChargingNeeds), else detected.
    ``cap_a``: a limit set outside chargewise (an EMS, the grid operator) that the charger reported."""

    online: bool = True
    session: bool = False
    measured_a: tuple[float, float, float] | None = None
    mode: Mode | None = None
    priority: int | None = None
    target_a: float | None = None
    energy_kwh: float | None = None
    departure: datetime | None = None
    car_phases: int | None = None
    cap_a: float | None = None  # an external limit on this EVSE (NotifyChargingLimit), amps per phase


@dataclass(frozen=True, kw_only=True, slots=True)
class MeterReading:
    """The site meter now: per-phase currents (site phase order) and/or total active power, W, positive when
    importing from the grid, negative when exporting (solar surplus). See :class:`chargewise.charging.site.Meter`
    for whether it includes the EVSEs."""

    phase_a: tuple[float, float, float] | None = None
    power_w: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteState:
    evses: Mapping[str, EvseState] = field(default_factory=dict)
    meter: MeterReading | None = None


class Cause(enum.StrEnum):
    """What decided an EVSE's limit (the first one met while sharing)."""

    IDLE = "idle"  # no session: 0
    OFFLINE = "offline"  # not connected: its last limit is kept and counted (it may charge on its own failsafe)
    EV_MAX = "ev_max"  # the EVSE's maximum
    NODE = "node"  # a node's limit (``binding`` names it and the phase or power)
    RAMP = "ramp"  # the most it may rise per cycle
    UNUSED = "unused"  # the car draws less (taper, full, fewer phases): what it draws plus the probe margin
    CUTOFF = "cutoff"  # its share was under the minimum current: off, waiting its turn
    PLAN = "plan"  # the planner's target
    SOLAR = "solar"  # the solar surplus
    PRIORITY = "priority"  # higher-priority or less-laxity sessions took the capacity first
    EXTERNAL = "external"  # a limit set outside chargewise, reported by the charger (NotifyChargingLimit)
    HOLD = "hold"  # its increase waits a cycle for others' decreases (``binding``: the node that needs it)


@dataclass(frozen=True, kw_only=True, slots=True)
class EvseLimit:
    """The limit for one EVSE: ``limit_a`` amps on each of ``phases`` phases (0: off), ``limit_w`` the same in
    watts at its nominal voltage. ``since``: when it last switched between off and on (for fair rotation)."""

    evse: str
    limit_a: float
    phases: int
    limit_w: float
    cause: Cause
    binding: str = ""  # "garage L2", "main power", "solar surplus", ... when a shared limit decided it
    mode: Mode = Mode.NOW
    reason: str = ""
    since: datetime | None = None
    phases_since: datetime | None = None  # when it last changed its number of phases
    guess: PhaseGuess | None = None
    surplus: SurplusClock | None = None  # mode solar: since when the surplus has (not) covered its minimum


@dataclass(frozen=True, kw_only=True, slots=True)
class Allocation:
    """The result of one cycle; pass it back as ``previous`` next cycle. ``node_a``: the current each node is
    allotted per site phase (EVSE limits, offline EVSEs and the meter's other load), for display and checks."""

    at: datetime
    policy: PolicyKind
    limits: Mapping[str, EvseLimit]
    node_a: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    node_w: Mapping[str, float] = field(default_factory=dict)
