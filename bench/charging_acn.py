"""The ACN-Sim half of ``python -m bench.charging``: one simulation per (network, cap, algorithm), and the
offline optimum with perfect foresight (an LP with HiGHS on simple_acn, an SOCP with cvxpy + Clarabel on
caltech_acn), each computed per group of overlapping sessions (the problem separates exactly there)."""

from __future__ import annotations

import gzip
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

PERIOD_MIN = 5
VOLTAGE = 208.0
REVENUE = 0.30  # $/kWh, the ACN-Sim paper's profit set-up (README of ../shared/data/acn)
TARIFF = "sce_tou_ev_4_march_2019"
ALGORITHMS = [
    "Uncontrolled",
    "FCFS",
    "EDF",
    "LLF",
    "Round robin",
    "chargewise",
    "offline optimum",
]
RR_STEP_A = 1.0  # Round robin's increment on continuous EVSEs; acnportal's 0.1 A default takes ~25 s per day


@dataclass(kw_only=True)
class Result:
    network: str
    cap: float
    algorithm: str
    energy_pct: float
    violations: int
    peak_kw: float
    profit: float
    seconds: float
    decisions_ms: list[float] = field(default_factory=list)
    power_kw: list[float] = field(default_factory=list)


def start_time() -> datetime:
    import pytz

    return pytz.timezone("America/Los_Angeles").localize(datetime(2019, 3, 1))


def load_events(path: Path, days: float) -> list[Any]:
    """The workload's plug-in events whose arrival is within the first ``days`` days."""
    from acnportal import acnsim

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # version-mismatch notes of the serialised queue
        with gzip.open(path) as raw:
            queue = acnsim.EventQueue.from_json(json.loads(raw.read()))
    limit = days * 24 * 60 / PERIOD_MIN
    return [event for t, event in queue._queue if t < limit]


def network(name: str, cap: float) -> Any:
    from acnportal.acnsim.network import sites

    caltech = sites.caltech_acn(basic_evse=True, transformer_cap=cap)
    return caltech if name == "caltech_acn" else sites.simple_acn(caltech.station_ids, aggregate_cap=cap)


def scheduler(name: str) -> Any:
    from acnportal import algorithms as alg

    from chargewise.bench.acn import ChargewiseAlgorithm

    table = {
        "Uncontrolled": lambda: alg.UncontrolledCharging(),
        "FCFS": lambda: alg.SortedSchedulingAlgo(alg.first_come_first_served),
        "EDF": lambda: alg.SortedSchedulingAlgo(alg.earliest_deadline_first),
        "LLF": lambda: alg.SortedSchedulingAlgo(alg.least_laxity_first),
        "Round robin": lambda: alg.RoundRobin(alg.first_come_first_served, continuous_inc=RR_STEP_A),
        "chargewise": ChargewiseAlgorithm,
    }
    return table[name]()


def profit(energy_kwh: float, power_kw: np.ndarray) -> float:
    """0.30 $/kWh revenue minus TOU-EV-4 energy charges and the demand charge on the month's peak."""
    from acnportal.signals.tariffs import TimeOfUseTariff

    tariff = TimeOfUseTariff(TARIFF)
    prices = np.array(tariff.get_tariffs(start_time(), len(power_kw), PERIOD_MIN))
    energy_cost = float(np.sum(power_kw * prices) * PERIOD_MIN / 60)
    demand = tariff.get_demand_charge(start_time()) * float(np.max(power_kw, initial=0.0))
    return REVENUE * energy_kwh - energy_cost - demand


def simulate(net_name: str, cap: float, algo: str, path: str, days: float) -> Result:
    """Run one ACN-Sim simulation; count its infeasible-schedule warnings; time chargewise's decisions."""
    os.nice(0)
    from acnportal import acnsim
    from acnportal.signals.tariffs import TimeOfUseTariff

    if algo == "offline optimum":
        return offline(net_name, cap, path, days)
    queue = acnsim.EventQueue()
    queue.add_events(load_events(Path(path), days))
    sched = scheduler(algo)
    decisions: list[float] = []
    if algo.startswith("chargewise"):
        inner = sched.schedule

        def timed(active: list[Any]) -> dict[str, list[float]]:
            t0 = time.process_time()
            out: dict[str, list[float]] = inner(active)
            if active:
                decisions.append((time.process_time() - t0) * 1e3)
            return out

        sched.schedule = timed
    sim = acnsim.Simulator(
        network(net_name, cap),
        sched,
        queue,
        start_time(),
        period=PERIOD_MIN,
        verbose=False,
        signals={"tariff": TimeOfUseTariff(TARIFF)},
    )
    t0 = time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim.run()
    seconds = time.process_time() - t0
    violations = sum(1 for w in caught if "Invalid schedule" in str(w.message))
    power = acnsim.analysis.aggregate_power(sim)
    energy = float(acnsim.analysis.total_energy_delivered(sim))
    return Result(
        network=net_name,
        cap=cap,
        algorithm=algo,
        energy_pct=100 * float(acnsim.analysis.proportion_of_energy_delivered(sim)),
        violations=violations,
        peak_kw=float(np.max(power, initial=0.0)),
        profit=profit(energy, power),
        seconds=seconds,
        decisions_ms=decisions,
        power_kw=[float(p) for p in power],
    )


def components(evs: list[Any]) -> list[list[Any]]:
    """Groups of sessions whose plug-in intervals chain into each other (the offline problem separates)."""
    groups: list[list[Any]] = []
    end = -1
    for ev in sorted(evs, key=lambda e: e.arrival):
        if ev.arrival >= end:
            groups.append([])
        groups[-1].append(ev)
        end = max(end, ev.departure)
    return groups


def offline(net_name: str, cap: float, path: str, days: float) -> Result:
    """The most energy any schedule could deliver knowing every session in advance (see module doc)."""
    t0 = time.process_time()
    evs = [event.ev for event in load_events(Path(path), days)]
    net = network(net_name, cap)
    horizon = max(ev.departure for ev in evs) + 1
    amps = np.zeros((len(net.station_ids), horizon))
    index = {sid: i for i, sid in enumerate(net.station_ids)}
    for group in components(evs):
        rates = solve_group(net, group, net_name)
        for ev, row in zip(group, rates, strict=True):
            amps[index[ev.station_id], ev.arrival : ev.departure] += row
    violations = 0 if net.is_feasible(amps) else 1
    power = VOLTAGE * amps.sum(axis=0) / 1000
    energy = float(np.sum(power) * PERIOD_MIN / 60)
    requested = sum(ev.requested_energy for ev in evs)
    return Result(
        network=net_name,
        cap=cap,
        algorithm="offline optimum",
        energy_pct=100 * energy / requested,
        violations=violations,
        peak_kw=float(power.max()),
        profit=profit(energy, power),
        seconds=time.process_time() - t0,
        power_kw=[float(p) for p in power],
    )


def solve_group(net: Any, group: list[Any], net_name: str) -> list[np.ndarray]:
    """Per session, amps over its own [arrival, departure): max energy, earlier on a tie."""
    t_start = min(ev.arrival for ev in group)
    t_end = max(ev.departure for ev in group)
    n = t_end - t_start
    kwh_per_amp_period = VOLTAGE * PERIOD_MIN / 60 / 1000
    top = [min(32.0, ev._battery._max_power * 1000 / VOLTAGE) for ev in group]
    index = {sid: i for i, sid in enumerate(net.station_ids)}
    phasor = np.exp(1j * np.deg2rad(np.asarray(net._phase_angles)))
    coef = np.array(
        [
            [net.constraint_matrix[k, index[ev.station_id]] * phasor[index[ev.station_id]] for ev in group]
            for k in range(len(net.magnitudes))
        ]
    )
    if net_name == "simple_acn":
        return solve_group_lp(group, t_start, n, top, coef.real, net.magnitudes, kwh_per_amp_period)
    return solve_group_socp(group, t_start, n, top, coef, net.magnitudes, kwh_per_amp_period)


def solve_group_lp(
    group: list[Any], t0: int, n: int, top: list[float], coef: np.ndarray, caps: np.ndarray, k: float
) -> list[np.ndarray]:
    from chargewise.charging.plan import Limit, PlanRequest, Session, Slots
    from chargewise.charging.plan_lp import solve

    sessions = [
        Session(
            id=str(j),
            energy_kwh=ev.requested_energy,
            arrival=ev.arrival - t0,
            departure=ev.departure - t0,
            max_amps=float(top[j]),
            kw_per_amp=VOLTAGE / 1000,
        )
        for j, ev in enumerate(group)
    ]
    limits = [
        Limit(
            name=str(r), coefficients={str(j): float(coef[r, j]) for j in range(len(group))}, caps=(float(caps[r]),) * n
        )
        for r in range(len(caps))
    ]
    req = PlanRequest(
        slots=Slots.uniform(start=datetime(2019, 3, 1), minutes=PERIOD_MIN, count=n),
        sessions=sessions,
        limits=limits,
        prices=(0.0,) * n,
        early_bonus=1e-3,
    )
    plan = solve(req)
    return [np.array(plan.amps[str(j)][ev.arrival - t0 : ev.departure - t0]) for j, ev in enumerate(group)]


def solve_group_socp(
    group: list[Any], t0: int, n: int, top: list[float], coef: np.ndarray, caps: np.ndarray, k: float
) -> list[np.ndarray]:
    """One variable per (session, period plugged in); each constraint's phasor sum per period is a sparse map."""
    import cvxpy as cp
    import scipy.sparse as sp

    spans = [(ev.arrival - t0, ev.departure - t0) for ev in group]
    owner = np.concatenate([np.full(b - a, j) for j, (a, b) in enumerate(spans)])
    period = np.concatenate([np.arange(a, b) for a, b in spans])
    size = owner.size
    x = cp.Variable(size, nonneg=True)
    per_session = sp.csr_matrix((np.ones(size), (owner, np.arange(size))), shape=(len(group), size))
    cons = [x <= np.array(top)[owner], k * (per_session @ x) <= np.array([ev.requested_energy for ev in group])]
    for r in range(len(caps)):
        c = coef[r][owner]
        mask = np.abs(c) > 0
        re = sp.csr_matrix((c.real[mask], (period[mask], np.nonzero(mask)[0])), shape=(n, size))
        im = sp.csr_matrix((c.imag[mask], (period[mask], np.nonzero(mask)[0])), shape=(n, size))
        if not np.any(c.imag[mask]) and np.all(c.real[mask] >= 0):
            cons.append(re @ x <= caps[r])
        else:
            cons.append(cp.norm(cp.vstack([re @ x, im @ x]), 2, axis=0) <= caps[r] * (1 - 1e-7))
    early = 1 - 1e-4 * period / n
    cp.Problem(cp.Maximize(k * (early @ x)), cons).solve(solver=cp.CLARABEL)
    value = np.clip(np.asarray(x.value), 0, np.array(top)[owner])
    dense = np.zeros((len(group), n))
    dense[owner, period] = value
    # the interior-point answer can sit a hair outside a cone: scale each period back exactly onto it
    z = np.abs(np.tensordot(coef, dense, axes=([1], [0])))  # (constraints, periods)
    worst = np.max(z / caps[:, None], axis=0)
    dense[:, worst > 1] /= worst[worst > 1] * (1 + 1e-9)
    return [dense[j, a:b] for j, (a, b) in enumerate(spans)]
