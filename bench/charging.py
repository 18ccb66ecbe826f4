"""``python -m bench.charging`` (``make bench-charging``): chargewise's planner against acnportal's baselines
and the offline optimum on the ACN-Sim paper workload, plus a 1,000-EV synthetic site and the evcc case.

See docs/bench-charging.md for the figures and goals. ``--days 3 --caps 30`` for a quick look; the full run
(31 days, 7 caps, 2 networks) takes long on a shared 2-core machine: it runs niced in a pool of 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.charging_acn import ALGORITHMS, Result, simulate
from bench.charging_synth import run_evcc, run_fleet

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT.parent / "shared" / "data" / "acn" / "caltech_20190301T000000_20190401T000000_5m_208V_6.6kW.json.gz"
RESULTS = Path(__file__).resolve().parent / "results"
CAPS = (20.0, 30.0, 40.0, 50.0, 60.0, 75.0, 100.0)
NETWORKS = ("caltech_acn", "simple_acn")


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.charging", description=__doc__)
    parser.add_argument("--caps", default=",".join(f"{c:g}" for c in CAPS), help="transformer caps in kW")
    parser.add_argument("--days", type=float, default=31.0, help="days of the March 2019 workload to run")
    parser.add_argument("--quick", action="store_true", help="3 days at caps 20 and 40")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--algorithms", default=",".join(ALGORITHMS), help=f"comma-separated subset of: {', '.join(ALGORITHMS)}"
    )
    args = parser.parse_args(argv)
    args.algorithms = tuple(a.strip() for a in args.algorithms.split(",") if a.strip())
    unknown = [a for a in args.algorithms if a not in ALGORITHMS]
    if unknown:
        parser.error(f"--algorithms: {unknown[0]!r} is not one of {', '.join(ALGORITHMS)}")
    if args.quick:
        args.days, args.caps = 3.0, "20,40"
    try:
        args.caps = tuple(float(c) for c in args.caps.split(","))
    except ValueError:
        parser.error(f"--caps: {args.caps!r} is not a comma-separated list of kW values, e.g. 20,30,40")
    return args


def niced() -> None:
    os.nice(10)


def run_acn(
    caps: tuple[float, ...],
    days: float,
    workers: int,
    console: Console,
    algorithms: tuple[str, ...] = tuple(ALGORITHMS),
) -> list[Result]:
    jobs = [(net, cap, algo) for net in NETWORKS for cap in caps for algo in algorithms]
    # the slowest first, so the pool of 2 stays busy to the end
    jobs.sort(key=lambda j: (j[2] not in ("chargewise", "Round robin"), j[0] != "caltech_acn", -j[1]))
    results: list[Result] = []
    RESULTS.mkdir(exist_ok=True)
    with Progress(console=console) as progress, ProcessPoolExecutor(workers, initializer=niced) as pool:
        task = progress.add_task(f"ACN-Sim, {days:g} days", total=len(jobs))
        futures = [pool.submit(simulate, net, cap, algo, str(WORKLOAD), days) for net, cap, algo in jobs]
        log = RESULTS / "charging-acn.jsonl"
        with log.open("w") as out:
            for future in as_completed(futures):
                r = future.result()
                results.append(r)
                progress.advance(task)
                progress.console.print(
                    f"{r.network} {r.cap:g} kW {r.algorithm}: {r.energy_pct:.2f} % energy, {r.violations} violations, "
                    f"peak {r.peak_kw:.1f} kW, profit {r.profit:,.0f} $ ({r.seconds:.0f} s CPU)"
                )
                row = {k: v for k, v in vars(r).items() if k not in ("power_kw", "decisions_ms")}
                if r.decisions_ms:
                    row["decision_ms_p50"] = float(np.percentile(r.decisions_ms, 50))
                    row["decision_ms_p99"] = float(np.percentile(r.decisions_ms, 99))
                out.write(json.dumps(row) + "\n")
                out.flush()
    return results


def acn_tables(results: list[Result], caps: tuple[float, ...], console: Console) -> None:
    by = {(r.network, r.cap, r.algorithm): r for r in results}
    for net in NETWORKS:
        for metric, fmt in (
            ("energy_pct", "{:.2f}"),
            ("violations", "{}"),
            ("peak_kw", "{:.1f}"),
            ("profit", "{:,.0f}"),
        ):
            table = Table(title=f"{net}: {metric.replace('_', ' ')}")
            table.add_column("algorithm")
            for cap in caps:
                table.add_column(f"{cap:g} kW", justify="right")
            if metric == "energy_pct":
                table.add_column("mean", justify="right")
            for algo in (a for a in ALGORITHMS if all((net, cap, a) in by for cap in caps)):
                values = [getattr(by[(net, cap, algo)], metric) for cap in caps]
                cells = [fmt.format(v) for v in values]
                if metric == "energy_pct":
                    cells.append(f"{np.mean(values):.2f}")
                table.add_row(algo, *cells)
            console.print(table)
        if not all((net, cap, "chargewise") in by for cap in caps):
            continue
        for cap in caps:
            ms = by[(net, cap, "chargewise")].decisions_ms
            if ms:
                console.print(
                    f"{net} {cap:g} kW: chargewise decision CPU time p50 {np.percentile(ms, 50):.1f} ms, "
                    f"p99 {np.percentile(ms, 99):.1f} ms over {len(ms):,} decisions"
                )
        everything = [d for cap in caps for d in by[(net, cap, "chargewise")].decisions_ms]
        if everything:
            console.print(
                f"{net} all caps: p50 {np.percentile(everything, 50):.1f} ms, "
                f"p99 {np.percentile(everything, 99):.1f} ms over {len(everything):,} decisions"
            )


def plot(results: list[Result], fleet: object, caps: tuple[float, ...], days: float) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    RESULTS.mkdir(exist_ok=True)
    cap = 30.0 if 30.0 in caps else caps[0]
    by = {(r.network, r.cap, r.algorithm): r for r in results}
    day = 4 if days >= 5 else 0  # 2019-03-05, a Tuesday, when the run covers it
    window = slice(day * 288, (day + 1) * 288)
    fig, ax = plt.subplots(figsize=(10, 4))
    for algo in ("Uncontrolled", "LLF", "chargewise", "offline optimum"):
        if ("caltech_acn", cap, algo) not in by:
            continue
        power = np.array(by[("caltech_acn", cap, algo)].power_kw)[window]
        ax.plot(np.arange(power.size) * 5 / 60, power, label=algo)
    ax.axhline(cap, color="k", linestyle="--", label=f"transformer cap {cap:g} kW")
    ax.set(xlabel=f"hour of 2019-03-{day + 1:02d}", ylabel="kW", title="caltech_acn: site power against the cap")
    ax.legend()
    first = RESULTS / "charging-acn-day.png"
    fig.savefig(first, dpi=110, bbox_inches="tight")
    fig2, ax2 = plt.subplots(figsize=(10, 4))
    hours = np.arange(len(fleet.site_kw)) / 4  # type: ignore[attr-defined]
    ax2.step(hours, fleet.site_kw, where="post", label="planned site kW")  # type: ignore[attr-defined]
    ax2.step(hours, fleet.dr_caps, where="post", color="r", linestyle="--", label="main kW cap (DR)")  # type: ignore[attr-defined]
    ax2.set(xlabel="hour", ylabel="kW", title="1,000 EVs, 96 slots: plan against the cap and the tariff")
    twin = ax2.twinx()
    twin.step(hours, fleet.prices, where="post", color="g", alpha=0.5, label="tariff $/kWh")  # type: ignore[attr-defined]
    twin.set_ylabel("$/kWh")
    ax2.legend(loc="upper left")
    second = RESULTS / "charging-fleet.png"
    fig2.savefig(second, dpi=110, bbox_inches="tight")
    return [first, second]


def main(argv: list[str] | None = None) -> int:
    args = arguments(sys.argv[1:] if argv is None else argv)
    console = Console()
    if not WORKLOAD.exists():
        console.print(f"the ACN workload is missing: {WORKLOAD} (../shared beside the clone); nothing run")
        return 2
    wall = time.perf_counter()
    fleet = run_fleet()
    console.print(
        f"1,000 EVs x 96 slots: auto chose {fleet.method}, {fleet.seconds * 1e3:.0f} ms, cost {fleet.cost:,.2f} $, "
        f"missed {fleet.missed_kwh:.3f} kWh, {fleet.over_dr_kw_min:.3f} kW-min over the DR cap, worst phase "
        f"excess {fleet.over_phase_a:.2e} A | LP {fleet.lp_seconds * 1e3:.0f} ms, {fleet.lp_cost:,.2f} $ | "
        f"heuristic {fleet.heuristic_seconds * 1e3:.0f} ms, {fleet.heuristic_cost:,.2f} $ "
        f"({100 * (fleet.heuristic_cost / fleet.lp_cost - 1):+.2f} % vs LP), "
        f"missed {fleet.heuristic_missed_kwh:.3f} kWh"
    )
    rows, why = run_evcc()
    table = Table(title="evcc case: 4 cars on one 32 A circuit (kWh by departure)")
    for col in ("car", "wanted", "chargewise", "per-EV cheapest slots + first-come clamp"):
        table.add_column(col, justify="right")
    for car, (want, ours, theirs) in rows.items():
        table.add_row(car, f"{want:.1f}", f"{ours:.1f}", f"{theirs:.1f}" + (" MISSED" if theirs < want - 1e-6 else ""))
    console.print(table)
    console.print("\n".join(why["B"][:1] + why["B"][7:9]))
    results = run_acn(args.caps, args.days, args.workers, console, args.algorithms)
    acn_tables(results, args.caps, console)
    for path in plot(results, fleet, args.caps, args.days):
        console.print(f"wrote {path}")
    console.print(f"whole run: {time.perf_counter() - wall:.0f} s wall ({args.days:g} days, caps {args.caps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
