"""chargewise's joint planner as an acnportal scheduling algorithm, run as model-predictive control.

``ChargewiseAlgorithm()`` plugs into ``acnsim.Simulator`` like any acnportal algorithm. At every period it
plans all active sessions over their remaining energy and departures under the network's constraints (LP with
tangent cuts for the three-phase phasor limits, exact scale-back) and returns the first period's pilots. The
horizon is 5-minute periods for the first hour, then 15-minute, hourly and 4-hour blocks (see `GRID`), so a
decision stays in tens of milliseconds on the 54-EVSE Caltech ACN. Energy first; then, with a forecast of
arrivals learned from past days, the peak a tariff's demand charge bills. Needs the ``dev`` extra (acnportal).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
from acnportal.algorithms import BaseAlgorithm
from numpy.typing import NDArray

from chargewise.bench.forecast import History, Seen, presence
from chargewise.charging import plan_lp
from chargewise.charging.plan_model import Limit, Plan, PlanRequest, Session, Slots

# block lengths in periods (5, 15, 60, 240 minutes at ACN's 5-minute period) and the periods each runs to:
# 5-minute periods for the first hour, 15-minute blocks to 3 hours, hourly to 12 hours, then 4-hour blocks
GRID = ((1, 12), (3, 36), (12, 144), (48, 10**9))
EPOCH = datetime(2000, 1, 1)  # the planner needs a start time only for explanations
# acnportal's EV counts itself charged, and leaves the active sessions, with less than this left (EV.fully_charged):
# a pilot that leaves a car 0 < kWh < DONE_KWH short loses that energy for good
DONE_KWH = 1e-3


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
    fractions = presence(0, remaining, grid)
    return sum(1 for f in fractions if f > 0), fractions


@functools.lru_cache(maxsize=4)
def block_starts(periods: int) -> NDArray[np.int64]:
    """Where each block of `blocks(periods)` starts (periods from now), the end of the last one included."""
    return np.cumsum([0, *blocks(periods)])


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


def feasible(info: Any, column: NDArray[np.float64], tol: float = 1e-7) -> bool:
    """The network's exact check (as ``ChargingNetwork.is_feasible``) on one period's pilots."""
    angles = np.exp(1j * np.deg2rad(np.asarray(info.phases, dtype=np.float64)))
    z = np.asarray(info.constraint_matrix) @ (column * angles)
    return bool(np.all(np.abs(z) <= np.asarray(info.constraint_limits) + tol))


class ChargewiseAlgorithm(BaseAlgorithm):  # type: ignore[misc]
    """chargewise's planner as acnportal MPC, energy first. No constructor arguments.

    Every period it plans the sessions plugged in and, from the sessions of past days of the same kind, the
    cars expected in the next hours (`chargewise.bench.forecast`; their energy weighs `forecast_weight` of a
    plugged-in car's, so they get only capacity the cars present do not need). With a tariff signal that has a
    demand charge, the power up to max(the month's peak so far, `peak_floor` x what the network can carry) is
    free, and the LP weighs the demand charge on the peak above that, below the value of any energy: the plan
    raises the peak only as far as the energy of the cars present and expected needs. On a day with no past day
    of its kind (no forecast) it plans energy first, plainly. Class attributes switch each part off."""

    use_forecast = True  # plan the cars expected to arrive too
    forecast_weight = 0.1  # their energy against a plugged-in car's
    use_tariff = True  # weigh the tariff's demand charge as above
    # the plan sees the month's peak as at least this share of what the network can carry: holding it lower saves
    # demand charge now but costs energy when more cars come than the forecast said (bench-charging, 7 days)
    peak_floor = 0.6
    donor_below = 0.9  # ... and only while the month's peak is below this share of the network's capacity
    donor_laxity = 2.0  # periods a car must have to spare to give amps to a car that cannot finish (`_behind`)
    use_prices = False  # also weigh the tariff's energy prices (off: TOU-EV-4's winter spread is 0.06-0.09 $/kWh)

    def __init__(self) -> None:
        super().__init__()
        self.max_recompute = 1
        self.accepts: dict[str, float] = {}  # session id -> the most current its car was seen to draw
        self._capacity: dict[tuple[tuple[float, ...], int], float] = {}
        self._info: _Info | None = None
        self._last: dict[str, tuple[int, float, float]] = {}  # session -> (period, kWh delivered, pilot given)
        self.history: History | None = None

    def register_interface(self, interface: Any) -> None:
        super().register_interface(interface)
        self._info, self._last = None, {}
        simulator = getattr(interface, "_simulator", None)
        start = getattr(simulator, "start", None) or EPOCH
        self.history = History(start=start.replace(tzinfo=None), period_min=float(interface.period))

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
        """Plan every active session (and, with `use_forecast`, the cars expected to arrive), return the first
        period's pilot per station."""
        sessions = [s for s in active_sessions if s.remaining_demand > 1e-9 and s.remaining_time > 0]
        if not sessions:
            return {}
        iface = self.interface
        info = self.info()
        now, period = int(iface.current_time), float(iface.period)
        self.learn(sessions, info, now, period / 60.0)
        self.remember(sessions, info)
        expected = self.forecast(now, info) if self.use_forecast else []
        horizon = max([int(s.estimated_departure - now) for s in sessions] + [e.departure for e in expected])
        grid = blocks(max(1, horizon))
        planned: list[Session] = []
        for s in sessions:
            i = info.index[s.station_id]
            remaining = max(1, int(s.estimated_departure - now))
            departure, fractions = block_presence(remaining, grid)
            top = self._top(info, s)
            planned.append(
                Session(
                    id=s.session_id,
                    energy_kwh=float(s.remaining_demand),
                    departure=departure,
                    max_amps=tuple(top * f for f in fractions),
                    kw_per_amp=float(info.voltages[i]) / 1000.0,
                )
            )
        stand_ins: list[Any] = list(sessions)
        for k, e in enumerate(expected):
            fractions = presence(e.arrival, e.departure, grid)
            seen = [b for b, f in enumerate(fractions) if f > 0]
            if not seen:
                continue
            name = f"expected-{k}"
            planned.append(
                Session(
                    id=name,
                    energy_kwh=e.energy_kwh,
                    arrival=seen[0],
                    departure=seen[-1] + 1,
                    max_amps=tuple(e.max_amps * f for f in fractions),
                    kw_per_amp=float(info.voltages[info.index[e.station]]) / 1000.0,
                    weight=self.forecast_weight,
                )
            )
            stand_ins.append(_Station(e.station, name))
        prices = [0.0] * len(grid)
        signals = iface._simulator.signals or {}
        if self.use_prices and "tariff" in signals:
            raw = iface.get_prices(sum(grid))
            start = np.cumsum([0, *grid])
            prices = [float(np.mean(raw[start[b] : start[b + 1]])) for b in range(len(grid))]
        limits = network_limits(info, stand_ins, info.index, len(grid))
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

    def remember(self, sessions: list[Any], info: _Info) -> None:
        """Note each session the first time it is seen (for the forecast of arrivals)."""
        if self.history is None:
            return
        for s in sessions:
            if s.session_id in self.history.seen:
                continue
            i = info.index[s.station_id]
            stay_h = (s.estimated_departure - s.arrival) * self.history.period_min / 60.0
            top = float(info.max_pilot[i])
            energy = min(float(s.requested_energy), top * float(info.voltages[i]) / 1000.0 * stay_h)
            seen = Seen(arrival=int(s.arrival), departure=int(s.estimated_departure), energy_kwh=energy,
                        max_amps=top, station=str(s.station_id))  # fmt: skip
            self.history.note(s.session_id, seen)

    def forecast(self, now: int, info: _Info) -> list[Any]:
        """The cars expected after ``now`` (see `chargewise.bench.forecast`), merged per plan block."""
        if self.history is None:
            return []
        starts = block_starts(10 * 24 * 60 // max(1, int(self.history.period_min)))  # ten days ahead

        def snap(offset: int) -> int:  # the start of its plan block
            return int(starts[max(0, int(np.searchsorted(starts, offset, side="right")) - 1)])

        return self.history.expected(now, info.group_of, snap=snap)

    def peak_plan(self, request: PlanRequest, info: _Info, demand: float) -> Plan | None:
        """The plan with the demand charge on the peak above max(the month's peak so far, `peak_floor` x the
        network's capacity), or None (plan energy first, plainly) once the month's peak is at capacity, or while
        no past day of today's kind is known (the plan cannot see who is coming)."""
        if not (self.history and self.history.knows(int(self.interface.current_time))):
            return None
        capacity = self.capacity_kw(info)
        running = float(self.interface.get_prev_peak()) * float(np.mean(info.voltages)) / 1000.0
        if running >= capacity * 0.99:
            return None
        prior = max(running, self.peak_floor * capacity)
        return plan_lp.solve(replace(request, demand_charge=demand, prior_peak_kw=prior))

    def _pilots(self, info: _Info, sessions: list[Any], first: dict[str, float]) -> dict[str, list[float]]:
        """Round to each EVSE's allowable pilots, step down until the network's exact check passes, then leave no
        car a sliver short (`_no_slivers`)."""
        column = np.zeros(len(info.station_ids))
        for s in sessions:
            column[info.index[s.station_id]] = first.get(s.session_id, 0.0)
        column = np.array([info.round_down(i, v) for i, v in enumerate(column)])
        while not feasible(info, column):
            worst = int(np.argmax(column))
            column[worst] = info.round_down(worst, column[worst] * 0.95 - 1e-9)
        column = self._behind(info, sessions, column)
        column = self._no_slivers(info, sessions, column)
        return {s.station_id: [float(column[info.index[s.station_id]])] for s in sessions}

    def _left(self, info: _Info, s: Any, amps: float) -> float:
        """The kWh session ``s`` still needs after a period at ``amps`` (as acnportal's ideal battery charges)."""
        i = info.index[s.station_id]
        drawn = min(amps, self._top(info, s))
        hours = float(self.interface.period) / 60.0
        return float(s.remaining_demand) - drawn * float(info.voltages[i]) / 1000.0 * hours

    def _amps_for(self, info: _Info, s: Any, kwh: float) -> float:
        i = info.index[s.station_id]
        return max(0.0, kwh) * 1000.0 / (float(info.voltages[i]) * float(self.interface.period) / 60.0)

    def _no_slivers(self, info: _Info, sessions: list[Any], column: NDArray[np.float64]) -> NDArray[np.float64]:
        """A pilot that would leave a car less than `DONE_KWH` short (the exact scale-back onto a binding limit
        does) loses that energy: acnportal drops the car. Such a car gets the pilot that finishes it where the
        network allows, with amps from cars that can make them up later (`_donors`) if need be (a few hundredths of
        an amp); else, if it stays another period, it is held back to twice `DONE_KWH` short (it finishes
        next period) and the amps freed go to the others, soonest departure first."""
        order = sorted(sessions, key=lambda s: (s.estimated_departure, s.station_id))
        for s in order:
            i = info.index[s.station_id]
            left = self._left(info, s, float(column[i]))
            if not 0 < left < DONE_KWH:
                continue
            # a hair over what finishes it (the battery takes no more than it needs), so rounding cannot leave 1e-15
            finish = info.round_up(i, float(column[i]) + self._amps_for(info, s, left + 1e-6))
            up = self._make_room(info, column, i, finish, self._donors(info, sessions, column))
            if self._left(info, s, float(up[i])) <= 1e-9:
                column = up
                continue
            if s.remaining_time <= 1:
                continue  # its last period: nothing later can finish it
            held = info.round_down(i, self._amps_for(info, s, float(s.remaining_demand) - 2 * DONE_KWH))
            freed = float(column[i]) - held
            column[i] = held
            column = self._fill(info, order, column, freed, skip=s.station_id)
        return column

    def _top(self, info: _Info, s: Any) -> float:
        """The most current session ``s`` draws: its EVSE's and EV's maximum, or less where it was seen to."""
        i = info.index[s.station_id]
        top = float(min(info.max_pilot[i], np.min(s.max_rates[:1]) if len(s.max_rates) else np.inf))
        return min(top, self.accepts.get(s.session_id, top))

    def _laxity(self, info: _Info, s: Any) -> float:
        """Periods session ``s`` could spare and still get all it asks for at its top rate (< 0: it cannot)."""
        i = info.index[s.station_id]
        per_period = self._top(info, s) * float(info.voltages[i]) / 1000.0 * float(self.interface.period) / 60.0
        if per_period <= 0:
            return -np.inf
        return float(s.remaining_time) - float(s.remaining_demand) / per_period

    def _behind(self, info: _Info, sessions: list[Any], column: NDArray[np.float64]) -> NDArray[np.float64]:
        """A car that cannot get all it asks for by its departure even at its top rate loses for good every amp it
        is not given now (the plan's blocks can miss this: they see a car's last block as a fraction of its top).
        Each such car, soonest departure first, gets what capacity the network has left, up to its top; where that
        is not enough, amps of the cars with at least `donor_laxity` periods to spare (most first), which they
        make up later, as least-laxity-first would, while the network has not been near its capacity this month
        (its peak below `donor_below` of it: a sub-panel binds now, capacity is not scarce). Where capacity is
        scarce the plan's trade-off between the cars, which sees the cars expected, beats least laxity's (7 days
        at 20 kW: 77.73 % against 76.71 % with donors always)."""
        behind = [s for s in sessions if self._laxity(info, s) < 0]
        if not behind:
            return column
        kw = float(np.sum(column * np.asarray(info.voltages, dtype=np.float64))) / 1000.0
        peak = float(self.interface.get_prev_peak()) * float(np.mean(info.voltages)) / 1000.0
        # the network has been near its limit this month: the plan's trade-off between the cars stands
        scarce = max(kw, peak) >= self.donor_below * self.capacity_kw(info)
        donors = [] if scarce else self._donors(info, sessions, column)
        for s in sorted(behind, key=lambda s: (s.estimated_departure, s.station_id)):
            i = info.index[s.station_id]
            want = info.round_down(i, self._top(info, s))
            column = self._make_room(info, column, i, want, donors)
        return column

    def _donors(self, info: _Info, sessions: list[Any], column: NDArray[np.float64]) -> list[Any]:
        """The cars that can give amps now and make them up later: at least `donor_laxity` periods to spare and
        not finishing this period (a car lowered then would be left a sliver short); most laxity first."""
        laxity = {s.session_id: self._laxity(info, s) for s in sessions}
        lax = [s for s in sessions if laxity[s.session_id] >= self.donor_laxity
               and self._left(info, s, float(column[info.index[s.station_id]])) >= DONE_KWH]  # fmt: skip
        return sorted(lax, key=lambda s: -laxity[s.session_id])

    def _make_room(
        self, info: _Info, column: NDArray[np.float64], i: int, want: float, donors: list[Any]
    ) -> NDArray[np.float64]:
        """EVSE ``i`` as near ``want`` as the network allows: first what capacity is left, then amps of
        ``donors`` in turn (each lowered by what is still short, and given back what was not needed)."""
        column = self._raise(info, column, i, want)
        for d in donors:
            k = info.index[d.station_id]
            short = want - float(column[i])
            if short <= 1e-9:
                break
            if k == i or column[k] <= 0:
                continue
            trial = column.copy()
            trial[k] = info.round_down(k, float(column[k]) - short)
            trial = self._raise(info, trial, i, want)
            if trial[i] <= column[i] + 1e-9:
                continue
            column = self._raise(info, trial, k, float(column[k]))  # the donor takes back what was not needed
        return column

    @staticmethod
    def _raise(info: _Info, column: NDArray[np.float64], i: int, want: float) -> NDArray[np.float64]:
        """EVSE ``i`` at the highest allowable pilot up to ``want`` that the network's exact check allows."""
        now = float(column[i])
        exact = [want] if info.is_continuous[i] else []
        levels = sorted({v for v in [*info.levels(i), *exact] if now < v <= want + 1e-9})
        best, lo, hi = now, 0, len(levels) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            trial = column.copy()
            trial[i] = levels[mid]
            if feasible(info, trial):
                best, lo = levels[mid], mid + 1
            else:
                hi = mid - 1
        out = column.copy()
        out[i] = best
        return out

    def _fill(
        self, info: _Info, order: list[Any], column: NDArray[np.float64], budget: float, skip: str
    ) -> NDArray[np.float64]:
        """Give up to ``budget`` amps to the cars in ``order`` (each up to what finishes it, never to a sliver
        short), as far as the network's exact check allows: bisection on each car's allowable pilots."""
        for s in order:
            if budget <= 1e-9 or s.station_id == skip:
                continue
            i = info.index[s.station_id]
            now = float(column[i])
            want = min(now + budget, now + self._amps_for(info, s, self._left(info, s, now)), float(info.max_pilot[i]))
            best = float(self._raise(info, column, i, want)[i])
            if best > now and 0 < self._left(info, s, best) < DONE_KWH:
                continue  # would leave this one a sliver short instead
            budget -= best - now
            column[i] = best
        return column


class _Station:
    """A stand-in session on an EVSE (for `capacity_kw`, and for the forecast's cars): id and station."""

    def __init__(self, station_id: str, session_id: str | None = None) -> None:
        self.session_id = session_id or station_id
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
        self._groups: dict[str, tuple[float, ...]] = {}
        self._levels: dict[int, list[float]] = {}

    def group_of(self, station_id: str) -> tuple[float, ...]:
        """The station's coefficients in every constraint (stations with equal ones are one group)."""
        found = self._groups.get(station_id)
        if found is None:
            i = self.index[station_id]
            angle = np.exp(1j * np.deg2rad(float(self.phases[i])))
            column = np.asarray(self.constraint_matrix, dtype=np.float64)[:, i] * angle
            found = self._groups[station_id] = tuple(np.round(np.concatenate([column.real, column.imag]), 6).tolist())
        return found

    def levels(self, i: int) -> list[float]:
        """EVSE ``i``'s allowable pilots, ascending (for a continuous EVSE: its range in 0.1 A steps); read once."""
        found = self._levels.get(i)
        if found is None:
            if self.is_continuous[i]:
                top = float(self.max_pilot[i])
                found = [round(0.1 * k, 1) for k in range(int(top * 10) + 1)] + ([top] if top * 10 % 1 else [])
            else:
                found = sorted(float(v) for v in self.allowable[i])
            self._levels[i] = found
        return found

    def round_up(self, i: int, value: float) -> float:
        """The smallest allowable pilot of EVSE ``i`` not below ``value`` (its maximum when none is)."""
        value = max(0.0, min(float(value), float(self.max_pilot[i])))
        if self.is_continuous[i]:
            return value
        levels = np.asarray(self.allowable[i], dtype=np.float64)
        above = levels[levels >= value - 1e-9]
        return float(above.min()) if above.size else float(self.max_pilot[i])

    def round_down(self, i: int, value: float) -> float:
        """The largest allowable pilot of EVSE ``i`` not above ``value`` (0 when none is)."""
        value = max(0.0, min(float(value), float(self.max_pilot[i])))
        if self.is_continuous[i]:
            return value
        levels = np.asarray(self.allowable[i], dtype=np.float64)
        below = levels[levels <= value + 1e-9]
        return float(below.max()) if below.size else 0.0
