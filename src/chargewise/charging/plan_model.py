"""The values of a joint charging plan: what a caller passes in (`PlanRequest`) and gets back (`Plan`).

Build a `PlanRequest` (slots, sessions, limits, prices) and call `plan`. Re-planning is calling `plan` again
with the new state (energy still needed, the slots from now on); apply `Plan.first_step` now and re-plan at
the next slot or event. Nothing here reads a clock: slot start times come in as data.

Units: a session's decision variable is its current in amps per slot (`kw_per_amp` converts it to power:
volts x phases / 1000). A `Limit` is a row over those currents: ``|sum_i a_i x_i| <= cap[t]`` with one
coefficient ``a_i`` per session. Real non-negative coefficients give a linear cap (a phase current in amps with
coefficient 1 per phase the session loads, or kW with coefficient `kw_per_amp`); complex coefficients give a
phasor magnitude (a delta-wye transformer's line current, as in acnportal's caltech_acn), which the LP handles
with tangent cuts and a final exact scale-back, so the returned schedule never exceeds a limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, kw_only=True)
class Slots:
    """The planning grid: the first slot's start and every slot's length in minutes (15, 60, ACN's 5...)."""

    start: datetime
    minutes: tuple[float, ...]

    @classmethod
    def uniform(cls, *, start: datetime, minutes: float, count: int) -> Slots:
        """``count`` slots of ``minutes`` each from ``start``."""
        return cls(start=start, minutes=(float(minutes),) * count)

    def __len__(self) -> int:
        return len(self.minutes)

    def begin(self, index: int) -> datetime:
        """Start time of slot ``index`` (``len(self)`` gives the end of the grid)."""
        return self.start + timedelta(minutes=sum(self.minutes[:index]))

    def hours(self, index: int) -> float:
        return self.minutes[index] / 60.0

    def index_of(self, when: datetime) -> int:
        """The slot a departure time falls in, as `Session.departure` wants it: the session may charge in the
        slots before it (a departure at 07:30 on hourly slots from 18:00 gives 13, so 07:00-08:00 is not used)."""
        elapsed = (when - self.start).total_seconds() / 60.0
        edge = 0.0
        for index, minutes in enumerate(self.minutes):
            if elapsed < edge + minutes - 1e-9:
                return index
            edge += minutes
        return len(self.minutes)


@dataclass(frozen=True, kw_only=True)
class Session:
    """One EV: energy still wanted, the slots it is plugged in ([arrival, departure)), its current range."""

    id: str
    energy_kwh: float
    departure: int
    arrival: int = 0
    max_amps: float | tuple[float, ...] = 32.0
    min_amps: float | tuple[float, ...] = 0.0
    kw_per_amp: float = 0.23 * 3
    # what its energy is worth against other sessions' (1: a car plugged in; below 1: a forecast of cars that
    # may come, served only with capacity the cars plugged in do not need)
    weight: float = 1.0

    def max_at(self, slot: int) -> float:
        return self.max_amps if isinstance(self.max_amps, float | int) else self.max_amps[slot]

    def min_at(self, slot: int) -> float:
        return self.min_amps if isinstance(self.min_amps, float | int) else self.min_amps[slot]

    def present(self, slot: int) -> bool:
        return self.arrival <= slot < self.departure


@dataclass(frozen=True, kw_only=True)
class Limit:
    """A node's cap on one quantity: ``|sum_i coefficients[i] * amps_i| <= caps[t]`` in every slot t.

    `notes` names why a slot's cap is lower (a demand-response event); explanations quote it.
    """

    name: str
    coefficients: Mapping[str, complex]
    caps: tuple[float, ...]
    unit: str = "A"
    notes: Mapping[int, str] = field(default_factory=dict)

    @property
    def linear(self) -> bool:
        return all(c.imag == 0 and c.real >= 0 for c in map(complex, self.coefficients.values()))


def node_limits(
    *,
    node: str,
    phase_caps: Mapping[str, tuple[float, ...]],
    wiring: Mapping[str, Mapping[str, float]],
    notes: Mapping[int, str] | None = None,
) -> list[Limit]:
    """One amp `Limit` per phase of a node: ``phase_caps`` maps a phase ("L1") to its cap per slot; ``wiring``
    maps each session under the node to the amps one amp of its current puts on each site phase (a three-phase
    car {"L1": 1, "L2": 1, "L3": 1}; a single-phase car on a rotated charger {"L2": 1})."""
    return [
        Limit(
            name=f"{node} {phase}",
            coefficients={sid: w[phase] for sid, w in wiring.items() if w.get(phase, 0.0)},
            caps=tuple(caps),
            notes=dict(notes or {}),
        )
        for phase, caps in phase_caps.items()
    ]


@dataclass(frozen=True, kw_only=True)
class PlanRequest:
    """Everything `plan` needs. `prices` are $/kWh per slot; `demand_charge` is $/kW on the plan's peak kW above
    `prior_peak_kw` (the peak already billed this period). `early_bonus` breaks ties towards earlier slots."""

    slots: Slots
    sessions: Sequence[Session]
    limits: Sequence[Limit]
    prices: tuple[float, ...]
    demand_charge: float = 0.0
    prior_peak_kw: float = 0.0
    early_bonus: float = 1e-4

    def shortfall_penalty(self) -> float:
        """$ per kWh not delivered: above any price and any demand charge one kWh can raise, so energy comes
        first and an infeasible target degrades to the most energy the limits allow."""
        shortest_h = min(self.slots.minutes) / 60.0 if len(self.slots) else 1.0
        return 10.0 * (max(self.prices, default=0.0) + self.demand_charge / shortest_h + self.early_bonus) + 1.0


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The schedule (amps per session per slot), what it delivers and costs, and why (see `explain`).

    Apply `first_step` now; call `plan` again at the next slot or on any change."""

    amps: Mapping[str, tuple[float, ...]]
    delivered_kwh: Mapping[str, float]
    shortfall_kwh: Mapping[str, float]
    site_kw: tuple[float, ...]
    energy_cost: float
    peak_kw: float
    method: str

    @property
    def first_step(self) -> dict[str, float]:
        return {sid: (a[0] if a else 0.0) for sid, a in self.amps.items()}

    @property
    def missed(self) -> list[str]:
        """Sessions whose energy cannot all be delivered by their departure (see `explain` for why)."""
        return [sid for sid, s in self.shortfall_kwh.items() if s > 1e-6]


def summarise(request: PlanRequest, amps: Mapping[str, Sequence[float]], method: str) -> Plan:
    """Build a `Plan` from a schedule: delivered energy, shortfall, site kW per slot, cost and peak."""
    n = len(request.slots)
    site_kw = [0.0] * n
    delivered: dict[str, float] = {}
    for s in request.sessions:
        a = amps[s.id]
        delivered[s.id] = float(sum(a[t] * s.kw_per_amp * request.slots.hours(t) for t in range(n)))
        for t in range(n):
            site_kw[t] += a[t] * s.kw_per_amp
    cost = sum(site_kw[t] * request.slots.hours(t) * request.prices[t] for t in range(n))
    return Plan(
        amps={sid: tuple(float(v) for v in a) for sid, a in amps.items()},
        delivered_kwh=delivered,
        shortfall_kwh={s.id: max(0.0, s.energy_kwh - delivered[s.id]) for s in request.sessions},
        site_kw=tuple(site_kw),
        energy_cost=cost,
        peak_kw=max(site_kw, default=0.0),
        method=method,
    )
