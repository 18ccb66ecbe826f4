"""chargewise's joint planner as an acnportal scheduling algorithm, run as model-predictive control.

``ChargewiseAlgorithm()`` plugs into ``acnsim.Simulator`` like any acnportal algorithm. At every period it
plans all active sessions over their remaining energy and departures under the network's constraints (LP with
tangent cuts for the three-phase phasor limits, exact scale-back) and returns the first period's pilots. The
horizon is 5-minute periods for the first hour, then 15-minute and 30-minute blocks, so a decision stays in
tens of milliseconds on the 54-EVSE Caltech ACN. Needs the ``dev`` extra (acnportal).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from acnportal.algorithms import BaseAlgorithm
from numpy.typing import NDArray

from chargewise.charging import plan_lp
from chargewise.charging.plan_model import Limit, PlanRequest, Session, Slots

FINE, MID, COARSE = 1, 3, 12  # block lengths in periods: 5, 15, 60 minutes at ACN's 5-minute period
FINE_BLOCKS, MID_BLOCKS = 12, 8
EPOCH = datetime(2000, 1, 1)  # the planner needs a start time only for explanations


def blocks(periods: int) -> list[int]:
    """Block lengths (in periods) covering ``periods``: 12 single periods, then 12 of 3, then 6 each."""
    out: list[int] = []
    total = 0
    while total < periods:
        size = FINE if len(out) < FINE_BLOCKS else MID if len(out) < FINE_BLOCKS + MID_BLOCKS else COARSE
        out.append(size)
        total += size
    return out


def block_presence(remaining: int, grid: list[int]) -> tuple[int, list[float]]:
    """(departure block, fraction of each block the session is still plugged in)."""
    fractions: list[float] = []
    start = 0
    for size in grid:
        fractions.append(min(1.0, max(0.0, (remaining - start) / size)))
        start += size
    return sum(1 for f in fractions if f > 0), fractions


def network_limits(info: Any, sessions: list[Any], index: dict[str, int], horizon: int) -> list[Limit]:
    """One `Limit` per network constraint: coefficient = matrix entry x the EVSE's phasor, caps = magnitude."""
    angles = np.exp(1j * np.deg2rad(np.asarray(info.phases, dtype=np.float64)))
    limits: list[Limit] = []
    for k, name in enumerate(info.constraint_ids):
        row = np.asarray(info.constraint_matrix[k], dtype=np.float64)
        coef = {s.session_id: complex(row[index[s.station_id]] * angles[index[s.station_id]]) for s in sessions}
        coef = {sid: c for sid, c in coef.items() if abs(c) > 0}
        if not coef:
            continue
        phases = {round(float(np.angle(c)), 9) for c in coef.values()}
        if len(phases) == 1:  # one phasor angle: the magnitude is a plain sum
            turn = np.exp(-1j * phases.pop())
            coef = {sid: complex(abs(c * turn)) for sid, c in coef.items()}
        limits.append(Limit(name=str(name), coefficients=coef, caps=(float(info.constraint_limits[k]),) * horizon))
    return limits


def feasible(info: Any, column: NDArray[np.float64], tol: float = 1e-7) -> bool:
    """The network's exact check (as ``ChargingNetwork.is_feasible``) on one period's pilots."""
    angles = np.exp(1j * np.deg2rad(np.asarray(info.phases, dtype=np.float64)))
    z = np.asarray(info.constraint_matrix) @ (column * angles)
    return bool(np.all(np.abs(z) <= np.asarray(info.constraint_limits) + tol))


class ChargewiseAlgorithm(BaseAlgorithm):  # type: ignore[misc]
    """chargewise's planner as acnportal MPC. No constructor arguments; set `use_tariff` before running to
    also weigh the simulator's tariff (energy prices and the demand charge above the peak so far)."""

    use_tariff = False  # weigh the demand charge above the month's peak so far (the tariff's $/kW)
    use_prices = False  # and the tariff's energy prices (off: TOU-EV-4's winter spread is 0.06-0.09 $/kWh)
    # the plan sees the month's peak as at least this share of what the network can carry: holding the peak
    # lower than that saves demand charge now but starves sessions that arrive later (bench-charging, 7 days)
    peak_floor = 0.6

    def __init__(self) -> None:
        super().__init__()
        self.max_recompute = 1
        self.accepts: dict[str, float] = {}  # session id -> the most current its car was seen to draw
        self._capacity: dict[tuple[tuple[float, ...], int], float] = {}

    def learn(self, sessions: list[Any]) -> None:
        """A car that drew less than its pilot accepts no more than that (as a meter value would show)."""
        pilots = self.interface.last_applied_pilot_signals
        actual = self.interface.last_actual_charging_rate
        for s in sessions:
            offered, drawn = pilots.get(s.session_id, 0.0), actual.get(s.session_id, 0.0)
            if offered > 0 and drawn < offered - 1e-3 and drawn > 0:
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
        self.learn(sessions)
        info = _Info(iface)
        period = float(iface.period)
        horizon = max(int(s.estimated_departure - iface.current_time) for s in sessions)
        grid = blocks(max(1, horizon))
        planned: list[Session] = []
        for s in sessions:
            i = info.index[s.station_id]
            remaining = max(1, int(s.estimated_departure - iface.current_time))
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
        demand, prior = 0.0, 0.0
        if self.use_tariff and "tariff" in (iface._simulator.signals or {}):
            raw = iface.get_prices(sum(grid))
            start = np.cumsum([0, *grid])
            if self.use_prices:
                prices = [float(np.mean(raw[start[b] : start[b + 1]])) for b in range(len(grid))]
            demand = float(iface.get_demand_charge())
            prior = float(iface.get_prev_peak()) * float(np.mean(info.voltages)) / 1000.0
            prior = max(prior, self.peak_floor * self.capacity_kw(info))
        request = PlanRequest(
            slots=Slots(start=EPOCH, minutes=tuple(size * period for size in grid)),
            sessions=planned,
            limits=network_limits(info, sessions, info.index, len(grid)),
            prices=tuple(prices),
            demand_charge=demand,
            prior_peak_kw=prior,
            early_bonus=1e-3,
        )
        first = plan_lp.solve(request).first_step
        return self._pilots(info, sessions, first)

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
