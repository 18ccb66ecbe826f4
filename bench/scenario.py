"""The measurements: what is run against each server, in which order, and what is recorded.

Per server (chargewise, then the baseline), on one fresh server process:

1. warm-up: one charger per generator, one second of MeterValues (imports, caches, first allocations);
2. RSS per idle connection: VmRSS, then K more chargers connected and booted, a pause, VmRSS again;
3. StartTransaction on the first M chargers, then four phases on them, each a warm-up then a measured window:
   MeterValues closed loop (full load), Heartbeat/MeterValues mix closed loop, then both again open loop at
   80 % of the rate the closed loop reached. Server CPU (utime + stime, all processes and threads) is read
   from /proc at the start and the end of each window; only calls answered with a CALLRESULT inside the
   window count.

Idle capacity (chargewise only): a separate server with ``--workers W`` holds N booted chargers; every one of
them then answers a Heartbeat to prove that it is still held.
"""

from __future__ import annotations

import asyncio
import math
import operator
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procstat
from bench.pool import PER_PROCESS, Pool
from bench.servers import Server, start_baseline, start_chargewise

HIST_BASE = 1.02  # must match bench.loadgen
STRIP_S = 0.25  # must match bench.loadgen
OPEN_LOOP_SHARE = 0.8
TAIL_MS = 50.0  # a strip with a call this slow is a tail strip (the p99 goal)


@dataclass(frozen=True, kw_only=True)
class Plan:
    connections: int = 1000  # M: chargers under load
    idle_k: int = 5000  # K: idle chargers for RSS per connection
    seconds: float = 10.0  # measured window per phase
    warmup: float = 3.0  # unmeasured load before each window
    idle: int = 5_000  # N for the idle-capacity run (0: skip)
    idle_workers: int = 4
    idle_within: float = 600.0  # no idle charger is started after this many seconds
    payload: str = "realistic"  # MeterValues: "realistic" (6 sampled values) or "minimal" (the register only)


Progress = Callable[[str], None]


def percentile(hist: dict[int, int], share: float) -> float | None:
    """The ``share`` quantile of a merged latency histogram, in milliseconds (bucket midpoint, +-1 %)."""
    total = sum(hist.values())
    if not total:
        return None
    rank, seen = share * total, 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= rank:
            return float(HIST_BASE ** (bucket + 0.5)) / 1000.0
    return None


def merge(answers: list[dict[str, Any]], key: str = "hist") -> dict[int, int]:
    """The generators' histograms under ``key``, added up: latency buckets ("hist"), or in the open loop how
    many calls were sent how many whole milliseconds after their scheduled time ("late")."""
    hist: dict[int, int] = {}
    for answer in answers:
        for bucket, count in answer.get(key, {}).items():
            hist[int(bucket)] = hist.get(int(bucket), 0) + count
    return hist


def _per_strip(
    answers: list[dict[str, Any]], key: str, seconds: float, combine: Callable[[float, float], float]
) -> list[float]:
    """The generators' figures under ``key`` (one per STRIP_S of the window, keyed by its index), combined
    per strip; a strip past the window (answered after it closed) is left out, one without figures is 0."""
    strips = [0.0] * math.ceil(seconds / STRIP_S)
    for answer in answers:
        for strip, value in answer.get(key, {}).items():
            if 0 <= int(strip) < len(strips):
                strips[int(strip)] = combine(strips[int(strip)], value)
    return strips


def worst_strip(answers: list[dict[str, Any]], seconds: float) -> list[float]:
    """The worst latency (ms) answered in each STRIP_S of the window, over all generators (0: none answered)."""
    return [round(ms, 1) for ms in _per_strip(answers, "worst", seconds, max)]


def count_strip(answers: list[dict[str, Any]], seconds: float) -> list[int]:
    """Calls answered with a CALLRESULT in each STRIP_S of the window, over all generators."""
    return [int(n) for n in _per_strip(answers, "count", seconds, operator.add)]


Sample = tuple[float, int, int]  # wall time; the event-loop thread's CPU and run-queue wait so far, ns


async def sample_loop(server: Server, measure_from: float, strips: int) -> list[Sample]:
    """The server's event-loop thread at each strip boundary of the window."""
    samples = []
    for i in range(strips + 1):
        await asyncio.sleep(max(0.0, measure_from + i * STRIP_S - time.time()))
        samples.append((time.time(), *server.loop_sched_ns()))
    return samples


def loop_strips(samples: list[Sample], counts: list[int]) -> tuple[list[float], list[float], list[float]]:
    """Per strip: the share of the wall time the event-loop thread ran (1.0: all of it), the share it was
    runnable but waited for a CPU that something else had, and its CPU in microseconds per call answered
    (0.0 where none was)."""
    busy, waited, cost = [], [], []
    for (t0, ran0, wait0), (t1, ran1, wait1), answered in zip(samples, samples[1:], counts, strict=False):
        span_ns = (t1 - t0) * 1e9
        busy.append(round((ran1 - ran0) / span_ns, 3) if span_ns > 0 else 0.0)
        waited.append(round((wait1 - wait0) / span_ns, 3) if span_ns > 0 else 0.0)
        cost.append(round((ran1 - ran0) / 1e3 / answered, 1) if answered else 0.0)
    return busy, waited, cost


def tail_vs_calm(worst: list[float], busy: list[float], waited: list[float], cost: list[float]) -> dict[str, Any]:
    """The event loop in the strips where some call took ``TAIL_MS`` or more, against the other strips: how
    busy it was, and its CPU per call relative to the calm strips' (the median of each). A loop that is busy
    all the time in the tail strips and spends more CPU per call there has slowed down, which a backlog by
    itself does not do (a loop that works off a backlog spends less per call: larger batches); one that is
    not busy there waited, for a CPU (``loop_waited``: another process had it) or for something else."""
    tail = [i for i, ms in enumerate(worst) if ms >= TAIL_MS and cost[i] > 0]
    calm = [i for i, ms in enumerate(worst) if 0 < ms < TAIL_MS and cost[i] > 0]

    def median(values: list[float]) -> float | None:
        return statistics.median(values) if values else None

    calm_cost, tail_cost = median([cost[i] for i in calm]), median([cost[i] for i in tail])
    return {
        "tail_strips": len(tail), "calm_strips": len(calm),
        "loop_busy_tail": median([busy[i] for i in tail]), "loop_busy_calm": median([busy[i] for i in calm]),
        "loop_waited_tail": median([waited[i] for i in tail]), "loop_waited_calm": median([waited[i] for i in calm]),
        "loop_us_per_call_tail": tail_cost, "loop_us_per_call_calm": calm_cost,
        "cost_ratio": round(tail_cost / calm_cost, 2) if tail_cost and calm_cost else None,
    }  # fmt: skip


def share_at_least(hist: dict[int, int], bucket: int) -> float:
    """The percentage of a histogram's counts in ``bucket`` or above."""
    return 100 * sum(n for b, n in hist.items() if b >= bucket) / max(1, sum(hist.values()))


async def phase(
    server: Server,
    pool: Pool,
    *,
    name: str,
    mix: bool,
    rate: float | None,
    plan: Plan,
    conns: int,
    window: Callable[[bool], None] | None = None,
) -> dict[str, Any]:
    """One load phase; returns its counts, CPU and latency figures. ``window(True)`` is called when the
    measured window opens, ``window(False)`` when it closes."""
    shares = pool.split(conns)
    start = time.time() + 0.3
    measure_from = start + plan.warmup
    measure_to = measure_from + plan.seconds
    commands = [
        {"cmd": "run", "conns": n, "mix": "mix" if mix else "mv", "rate": rate * n / conns if rate else None,
         "start": start, "measure_from": measure_from, "measure_to": measure_to}
        for n in shares
    ]  # fmt: skip
    running = asyncio.ensure_future(pool.each(commands))
    n_strips = math.ceil(plan.seconds / STRIP_S)
    sampling = asyncio.ensure_future(sample_loop(server, measure_from, n_strips))
    await asyncio.sleep(measure_from - time.time())
    cpu0, gen0, wall0 = server.cpu(), pool.cpu(), time.time()
    if window is not None:
        window(True)
    await asyncio.sleep(measure_to - time.time())
    cpu1, gen1, wall1 = server.cpu(), pool.cpu(), time.time()
    if window is not None:
        window(False)
    answers = await running
    busy, waited, cost = loop_strips(await sampling, count_strip(answers, plan.seconds))
    worst = worst_strip(answers, plan.seconds)
    hist = merge(answers)
    late = merge(answers, "late")  # a generator that falls behind adds its own delay to the latency
    answered = sum(a["answered"] for a in answers)
    cpu, wall = cpu1 - cpu0, wall1 - wall0
    return {
        "phase": name, "mix": "heartbeat+metervalues 1:4" if mix else "metervalues",
        "loop": "open" if rate else "closed", "target_rate": round(rate, 1) if rate else None,
        "chargers": sum(a["chargers"] for a in answers), "seconds": round(wall, 3),
        "answered": answered, "answered_metervalues": sum(a["answered_mv"] for a in answers),
        "call_errors": sum(a["errors"] for a in answers), "unanswered": sum(a["unanswered"] for a in answers),
        "server_cpu_s": round(cpu, 3), "msgs_per_cpu_s": round(answered / cpu, 1) if cpu > 0 else None,
        "rate": round(answered / plan.seconds, 1), "server_cores": round(cpu / wall, 2),
        "loadgen_cores": round((gen1 - gen0) / wall, 2),
        "p50_ms": _round(percentile(hist, 0.50)), "p99_ms": _round(percentile(hist, 0.99)),
        "p999_ms": _round(percentile(hist, 0.999)),
        "sent_late_10ms_pct": _round(share_at_least(late, 10)) if rate else None,
        "worst_ms_per_strip": worst, "strip_s": STRIP_S, "loop_busy_per_strip": busy,
        "loop_waited_per_strip": waited, "loop_us_per_call_per_strip": cost,
        "tail_vs_calm": tail_vs_calm(worst, busy, waited, cost),
    }  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def measure_server(kind: str, plan: Plan, log_dir: Path, say: Progress) -> dict[str, Any]:
    """All per-server figures for ``kind`` ("chargewise" or "baseline")."""
    server = start_chargewise(log_dir) if kind == "chargewise" else start_baseline(log_dir)
    result: dict[str, Any] = {"server": server.name, "uvloop": procstat.uses_uvloop(server.process.pid)}
    result["durable_writes"] = kind == "chargewise"
    pool: Pool | None = None
    try:
        processes = max(1, math.ceil((plan.idle_k + 1) / PER_PROCESS))
        pool = await Pool.start(server.url, processes, tag=kind[:2], payload=plan.payload)
        result["loadgen_processes"], result["loadgen_uvloop"] = len(pool.procs), pool.uvloop
        say(f"{server.name}: started (pid {server.process.pid}, uvloop {_yes(result['uvloop'])}); warming up")
        warm = len(pool.procs)
        await _connected(pool, warm, start_tx=True, say=say)
        await phase(server, pool, name="warmup", mix=True, rate=None, plan=Plan(seconds=1, warmup=0.5), conns=warm)
        await asyncio.sleep(1.0)
        rss0 = server.rss()
        say(f"{server.name}: connecting and booting {plan.idle_k:,} idle chargers")
        took = await _connected(pool, plan.idle_k, start_tx=False, say=say)
        await asyncio.sleep(3.0)
        rss1 = server.rss()
        result["idle_rss"] = {
            "k": plan.idle_k, "rss_before_kib": rss0, "rss_after_kib": rss1,
            "kib_per_connection": round((rss1 - rss0) / plan.idle_k, 2), "connect_seconds": took,
        }  # fmt: skip
        say(f"{server.name}: {result['idle_rss']['kib_per_connection']} KiB per idle connection; "
            f"StartTransaction on {plan.connections:,} chargers")  # fmt: skip
        started = await pool.each([{"cmd": "start_tx", "n": n} for n in pool.split(plan.connections)])
        failed = sum(s["failed"] for s in started)
        if failed:
            say(f"{server.name}: [yellow]{failed} StartTransaction failed[/]")
        phases = result["phases"] = {}
        for key, mix in (("metervalues", False), ("mix", True)):
            say(f"{server.name}: {key} closed loop, {plan.connections:,} chargers, {plan.seconds:.0f} s")
            full = phases[f"{key}_full"] = await phase(
                server, pool, name=f"{key}_full", mix=mix, rate=None, plan=plan, conns=plan.connections
            )
            say(f"{server.name}:   {full['rate']:,.0f} msg/s, {full['msgs_per_cpu_s']:,.0f} msg per CPU-s, "
                f"p99 {full['p99_ms']} ms")  # fmt: skip
            target = OPEN_LOOP_SHARE * full["rate"]
            say(f"{server.name}: {key} open loop at 80 % of peak = {target:,.0f} msg/s, {plan.seconds:.0f} s")
            at80 = phases[f"{key}_80"] = await phase(
                server, pool, name=f"{key}_80", mix=mix, rate=target, plan=plan, conns=plan.connections
            )
            say(f"{server.name}:   {at80['rate']:,.0f} msg/s, p50 {at80['p50_ms']} ms, p99 {at80['p99_ms']} ms")
        result["rss_end_kib"] = server.rss()
    finally:
        if pool is not None:
            await pool.stop()
        server.stop()
    return result


async def measure_idle(plan: Plan, log_dir: Path, say: Progress) -> dict[str, Any]:
    """Idle capacity: ``plan.idle`` booted chargers held by chargewise with ``--workers``."""
    server = start_chargewise(log_dir, workers=plan.idle_workers)
    pool: Pool | None = None
    try:
        pool = await Pool.start(server.url, max(1, math.ceil(plan.idle / PER_PROCESS)), tag="id")
        await asyncio.sleep(1.0)
        rss0, pss0 = server.rss(), procstat.pss_kib(server.pids())
        say(f"{server.name}: connecting and booting {plan.idle:,} chargers from {len(pool.procs)} generators")
        began = time.monotonic()
        connected = await pool.connect(plan.idle, start_tx=False, concurrency=100, within=plan.idle_within)
        took = time.monotonic() - began
        if connected["failed"]:
            say(f"{server.name}: [yellow]{connected['failed']} chargers failed: {connected['errors']}[/]")
        if connected["skipped"]:
            say(f"{server.name}: [yellow]{connected['skipped']:,} chargers not tried: the {plan.idle_within:.0f} s "
                "limit (--idle-within) had passed[/]")  # fmt: skip
        await asyncio.sleep(5.0)
        rss1, pss1 = server.rss(), procstat.pss_kib(server.pids())
        say(f"{server.name}: {connected['connected']:,} connected in {took:.0f} s; checking each one answers")
        alive = await pool.all({"cmd": "alive", "concurrency": 200})
        held = sum(a["answered"] for a in alive)
        say(f"{server.name}: {held:,} chargers held, RSS {rss1 / 1024:,.0f} MiB")
        return {
            "server": server.name, "workers": plan.idle_workers, "requested": plan.idle,
            "connected": connected["connected"], "failed": connected["failed"], "skipped": connected["skipped"],
            "errors": connected["errors"], "within_s": plan.idle_within,
            "held": held, "connect_seconds": round(took, 1), "rss_before_kib": rss0, "rss_kib": rss1,
            "pss_kib": pss1, "kib_per_connection": round((rss1 - rss0) / max(1, connected["connected"]), 2),
            "pss_kib_per_connection": round((pss1 - pss0) / max(1, connected["connected"]), 2),
            "loadgen_processes": len(pool.procs),
        }  # fmt: skip
    finally:
        if pool is not None:
            await pool.stop()
        server.stop()


async def _connected(pool: Pool, n: int, *, start_tx: bool, say: Progress) -> float:
    began = time.monotonic()
    answer = await pool.connect(n, start_tx=start_tx)
    if answer["failed"]:
        say(f"[yellow]{answer['failed']} of {n} chargers failed to connect: {answer['errors']}[/]")
    return round(time.monotonic() - began, 1)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
