"""chargewise's joint planner as an acnportal scheduling algorithm, run as model-predictive control.

``ChargewiseAlgorithm()`` plugs into ``acnsim.Simulator`` like any acnportal algorithm. At every period it
plans all active sessions over their remaining energy and departures under the network's constraints (LP with
tangent cuts for the three-phase phasor limits, exact scale-back) and returns the first period's pilots. The
horizon is 5-minute periods for the first hour, then 15-minute, hourly and 4-hour blocks (see `GRID`), so a
decision stays in tens of milliseconds on the 54-EVSE Caltech ACN. Energy first; weighing a tariff's demand
charge is opt-in (`ChargewiseAlgorithm.use_tariff`). Needs the ``dev`` extra (acnportal).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
from acnportal.algorithms import BaseAlgorithm
from numpy.typing import NDArray

from chargewise.charging import plan_lp
from chargewise.charging.plan_model import Limit, Plan, PlanRequest, Session, Slots

# block lengths in periods (5, 15, 60, 240 minutes at ACN's 5-minute period) and the periods each runs to:
# 5-minute periods for the first hour, 15-minute blocks to 3 hours, hourly to 12 hours, then 4-hour blocks
GRID = ((1, 12), (3, 36), (12, 144), (48, 10**9))
EPOCH = datetime(2000, 1, 1)  # the planner needs a start time only for explanations


def blocks(periods: int) -> list[int]:
    """Block lengths (in periods) covering ``periods`` (see `GRID`)."""
    out: list[int] = []
    total = 0
    while total < periods:
        size = next(size for size, end in GRID if total < end)
        out.append(size)
        total += size
    return out


def block_presence(remaining: int, grid: list[int]) -> tuple[int, list[float]]:
    """(departure block, fraction of each block the session is still plugged in)."""
    sizes = np.asarray(grid, dtype=np.float64)
    starts = np.concatenate([[0.0], np.cumsum(sizes)[:-1]])
    fractions = np.clip((remaining - starts) / sizes, 0.0, 1.0)
    return int(np.count_nonzero(fractions > 0)), fractions.tolist()


def network_limits(info: Any, sessions: list[Any], index: dict[str, int], horizon: int) -> list[Limit]:
    """One `Limit` per network constraint: coefficient = matrix entry x the EVSE's phasor, caps = magnitude."""
    angles = np.exp(1j * np.deg2rad(np.asarray(info.phases, dtype=np.float64)))
    columns = np.array([index[s.station_id] for s in sessions], dtype=np.int64)
    matrix = np.asarray(info.constraint_matrix, dtype=np.float64)[:, columns] * angles[columns]
    ids = [s.session_id for s in sessions]
    limits: list[Limit] = []
    for k, name in enumerate(info.constraint_ids):
        row = matrix[k]
        used = np.nonzero(np.abs(row) > 0)[0]
        if not used.size:
            continue
        phases = np.round(np.angle(row[used]), 9)
        if np.all(phases == phases[0]):  # one phasor angle: the magnitude is a plain sum
            values = [complex(v) for v in np.abs(row[used])]
        else:
            values = [complex(v) for v in row[used]]
        coef = {ids[j]: v for j, v in zip(used.tolist(), values, strict=True)}
        limits.append(Limit(name=str(name), coefficients=coef, caps=(float(info.constraint_limits[k]),) * horizon))
    return limits


SHORT_KWH = 0.05  # energy the network (not the car's own rate and stay) keeps from the plan: congested


def network_shortfall(request: PlanRequest, plan: Plan) -> float:
    """kWh the plan leaves undelivered beyond what each session could take alone (its maximum over its stay)."""
    total = 0.0
    for s in request.sessions:
        alone = sum(s.max_at(t) * s.kw_per_amp * request.slots.hours(t) for t in range(s.arrival, s.departure))
        total += max(0.0, min(s.energy_kwh, alone) - plan.delivered_kwh[s.id])
    return total


def feasible(info: Any, column: NDArray[np.float64], tol: float = 1e-7) -> bool:
    """The network's exact check (as ``ChargingNetwork.is_feasible``) on one period's pilots."""
    angles = np.exp(1j * np.deg2rad(np.asarray(info.phases, dtype=np.float64)))
    z = np.asarray(info.constraint_matrix) @ (column * angles)
    return bool(np.all(np.abs(z) <= np.asarray(info.constraint_limits) + tol))


class ChargewiseAlgorithm(BaseAlgorithm):  # type: ignore[misc]
    """chargewise's planner as acnportal MPC, energy first. No constructor arguments.

    With a tariff signal that has a demand charge, the power up to the month's peak so far (and up to
    `peak_floor` of the network's capacity) is free, and the plan raises the peak only as far as energy needs:
    the LP weighs the demand charge on the peak above that, far below the value of energy. Once the month's peak
    reaches the network's capacity, or a plan needs `busy_share` of it or cannot deliver all energy (the
    capacity is needed: holding back now would cost energy when more cars arrive), the charge is spent and the
    plan is the plain energy-first one for the rest of the month. Off by default (`use_tariff`): on a busy
    day any holding back before the plan sees the congestion costs energy (simple_acn, 20 kW, 2019-03-01:
    98.15 % against LLF's 100 %), and the goal is energy first."""

    # the plan sees the month's peak as at least this share of what the network can carry: holding it lower saves
    # demand charge now but starves cars that arrive later (bench-charging, 7 days)
    use_tariff = False  # weigh the tariff's demand charge as above (class attribute; see the docstring)
    peak_floor = 0.6
    # a plan that needs this share of the capacity (or cannot deliver all energy) means a busy month: the
    # capacity will be needed, so the demand charge is spent and the plan goes energy first (bench-charging)
    busy_share = 0.8
    use_prices = False  # also weigh the tariff's energy prices (off: TOU-EV-4's winter spread is 0.06-0.09 $/kWh)

    def __init__(self) -> None:
        super().__init__()
        self.max_recompute = 1
        self.accepts: dict[str, float] = {}  # session id -> the most current its car was seen to draw
        self._capacity: dict[tuple[tuple[float, ...], int], float] = {}
        self._info: _Info | None = None
        self._last: dict[str, tuple[int, float, float]] = {}  # session -> (period, kWh delivered, pilot given)
        self._congested: tuple[int, int] | None = None  # the (year, month) in which the network fell short

    def register_interface(self, interface: Any) -> None:
        super().register_interface(interface)
        self._info, self._last, self._congested = None, {}, None

    def info(self) -> _Info:
        """The network (read once: acnportal copies it on every call, and it does not change in a run)."""
        if self._info is None:
            self._info = _Info(self.interface)
        return self._info

    def learn(self, sessions: list[Any], info: _Info, now: int, period_h: float) -> None:
        """A car that drew less than its pilot accepts no more than that (as a meter value would show): the
        current drawn is the energy delivered since the last period over the period."""
        for s in sessions:
            last = self._last.get(s.session_id)
            if last is None or last[0] != now - 1 or last[2] <= 0:
                continue
            volts = float(info.voltages[info.index[s.station_id]])
            drawn = (float(s.energy_delivered) - last[1]) * 1000.0 / (volts * period_h)
            if 0 < drawn < last[2] - 1e-3:
                self.accepts[s.session_id] = drawn

    def capacity_kw(self, info: _Info) -> float:
        """The most kW the network can carry with every EVSE available (one LP per network, cached)."""
        key = (tuple(np.asarray(info.constraint_limits).round(6)), len(info.station_ids))
        if key not in self._capacity:
            sessions = [
                Session(
                    id=sid,
                    energy_kwh=1e9,
                    departure=1,
                    max_amps=float(info.max_pilot[i]),
                    kw_per_amp=float(info.voltages[i]) / 1000.0,
                )
                for i, sid in enumerate(info.station_ids)
            ]
            fake = [_Station(sid) for sid in info.station_ids]
            request = PlanRequest(
                slots=Slots(start=EPOCH, minutes=(60.0,)),
                sessions=sessions,
                limits=network_limits(info, fake, info.index, 1),
                prices=(0.0,),
            )
            self._capacity[key] = plan_lp.solve(request).peak_kw
        return self._capacity[key]

    def schedule(self, active_sessions: list[Any]) -> dict[str, list[float]]:
        """Plan every active session, return the first period's pilot per station."""
        sessions = [s for s in active_sessions if s.remaining_demand > 1e-9 and s.remaining_time > 0]
        if not sessions:
            return {}
        iface = self.interface
        info = self.info()
        now, period = int(iface.current_time), float(iface.period)
        self.learn(sessions, info, now, period / 60.0)
        horizon = max(int(s.estimated_departure - now) for s in sessions)
        grid = blocks(max(1, horizon))
        planned: list[Session] = []
        for s in sessions:
            i = info.index[s.station_id]
            remaining = max(1, int(s.estimated_departure - now))
            departure, fractions = block_presence(remaining, grid)
            top = float(min(info.max_pilot[i], np.min(s.max_rates[:1]) if len(s.max_rates) else np.inf))
            top = min(top, self.accepts.get(s.session_id, top))
            planned.append(
                Session(
                    id=s.session_id,
                    energy_kwh=float(s.remaining_demand),
                    departure=departure,
                    max_amps=tuple(top * f for f in fractions),
                    kw_per_amp=float(info.voltages[i]) / 1000.0,
                )
            )
        prices = [0.0] * len(grid)
        signals = iface._simulator.signals or {}
        if self.use_prices and "tariff" in signals:
            raw = iface.get_prices(sum(grid))
            start = np.cumsum([0, *grid])
            prices = [float(np.mean(raw[start[b] : start[b + 1]])) for b in range(len(grid))]
        limits = network_limits(info, sessions, info.index, len(grid))
        request = PlanRequest(
            slots=Slots(start=EPOCH, minutes=tuple(size * period for size in grid)),
            sessions=planned,
            limits=limits,
            prices=tuple(prices),
            early_bonus=1e-3,
        )
        demand = float(iface.get_demand_charge()) if "tariff" in signals else 0.0
        plan = self.peak_plan(request, info, demand) if demand > 0 and self.use_tariff else None
        first = (plan or plan_lp.solve(request)).first_step
        pilots = self._pilots(info, sessions, first)
        for s in sessions:
            self._last[s.session_id] = (now, float(s.energy_delivered), pilots[s.station_id][0])
        return pilots

    def peak_plan(self, request: PlanRequest, info: _Info, demand: float) -> Plan | None:
        """The plan with the demand charge on the peak above max(the month's peak so far, `peak_floor` x the
        network's capacity), or None (plan energy first, plainly) once the month's peak is at capacity, or for
        the rest of the month once the network itself keeps energy from a car: then the capacity is needed and
        holding the peak down would cost energy when more cars arrive."""
        month = (self.interface.current_datetime.year, self.interface.current_datetime.month)
        if self._congested == month:
            return None
        capacity = self.capacity_kw(info)
        running = float(self.interface.get_prev_peak()) * float(np.mean(info.voltages)) / 1000.0
        if running >= capacity * 0.99:
            return None
        prior = max(running, self.peak_floor * capacity)
        plan = plan_lp.solve(replace(request, demand_charge=demand, prior_peak_kw=prior))
        if plan.peak_kw >= self.busy_share * capacity or network_shortfall(request, plan) > SHORT_KWH:
            self._congested = month
            return None
        return plan

    def _pilots(self, info: _Info, sessions: list[Any], first: dict[str, float]) -> dict[str, list[float]]:
        """Round to each EVSE's allowable pilots and step down until the network's exact check passes."""
        column = np.zeros(len(info.station_ids))
        for s in sessions:
            column[info.index[s.station_id]] = first.get(s.session_id, 0.0)
        column = np.array([info.round_down(i, v) for i, v in enumerate(column)])
        while not feasible(info, column):
            worst = int(np.argmax(column))
            column[worst] = info.round_down(worst, column[worst] * 0.95 - 1e-9)
        return {s.station_id: [float(column[info.index[s.station_id]])] for s in sessions}


class _Station:
    """A stand-in session on every EVSE (for `capacity_kw`): id and station are the EVSE's."""

    def __init__(self, station_id: str) -> None:
        self.session_id = station_id
        self.station_id = station_id


class _Info:
    """The parts of acnportal's InfrastructureInfo the planner reads, plus each EVSE's allowable pilots."""

    def __init__(self, iface: Any) -> None:
        raw = iface.infrastructure_info()
        self.station_ids: list[str] = list(raw.station_ids)
        self.index = {sid: i for i, sid in enumerate(self.station_ids)}
        self.constraint_matrix = raw.constraint_matrix
        self.constraint_limits = raw.constraint_limits
        self.constraint_ids = raw.constraint_ids
        self.phases = raw.phases
        self.voltages = raw.voltages
        self.max_pilot = raw.max_pilot
        self.is_continuous = raw.is_continuous
        self.allowable = raw.allowable_pilots

    def round_down(self, i: int, value: float) -> float:
        """The largest allowable pilot of EVSE ``i`` not above ``value`` (0 when none is)."""
        value = max(0.0, min(float(value), float(self.max_pilot[i])))
        if self.is_continuous[i]:
            return value
        levels = np.asarray(self.allowable[i], dtype=np.float64)
        below = levels[levels <= value + 1e-9]
        return float(below.max()) if below.size else 0.0
