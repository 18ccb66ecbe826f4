"""``python -m bench`` (``make bench``): chargewise against a baseline CSMS on the ``ocpp`` library, same run.

See docs/bench.md for what is measured and how. Options change the sizes; the defaults finish in about four
minutes on a 2-core machine. ``--idle 50000`` tests the 50,000-idle-chargers goal (about five minutes more).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import doctor, procstat
from bench.pool import LoadGenFailed
from bench.report import print_report
from bench.scenario import Plan, measure_idle, measure_server
from bench.servers import ROOT, ServerFailed

RESULTS = Path(__file__).resolve().parent / "results"
SIMULATOR_TIMEOUT = 300.0


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--connections", type=int, default=1000, help="chargers under load (default 1000)")
    p.add_argument("--idle-k", type=int, default=5000, help="idle chargers for RSS per connection (default 5000)")
    p.add_argument("--seconds", type=float, default=10.0, help="measured window per phase (default 10)")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured load before each window (default 3)")
    p.add_argument(
        "--idle", type=int, default=5_000,
        help="idle chargers for the idle-capacity run against chargewise --workers (default 5000; "
        "the goal is 50000; 0 skips it)",
    )  # fmt: skip
    p.add_argument(
        "--payload", choices=["realistic", "minimal"], default="realistic",
        help="MeterValues content: six sampled values (default) or the energy register only",
    )  # fmt: skip
    p.add_argument(
        "--idle-within", type=float, default=600.0,
        help="seconds after which no more idle chargers are started (default 600); the rest count as not tried",
    )  # fmt: skip
    p.add_argument("--idle-workers", type=int, default=4, help="chargewise --workers for the idle run (default 4)")
    p.add_argument(
        "--simulator", type=int, default=10_000,
        help="simulated chargers for the simulator's own cost per charger (default 10000; 0 skips it)",
    )  # fmt: skip
    p.add_argument("--skip-baseline", action="store_true", help="skip the baseline's measurements")
    p.add_argument("--skip-doctor", action="store_true", help="skip the connectivity doctor's scenario matrix")
    p.add_argument(
        "--skip-chargewise", action="store_true",
        help="skip chargewise's load, latency and RSS measurements (the idle run has its own --idle)",
    )  # fmt: skip
    p.add_argument(
        "--profile", action="store_true",
        help="also run chargewise under cProfile with the MeterValues load and save its hot spots",
    )  # fmt: skip
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json", help="JSON results file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    out, err = Console(), Console(stderr=True)
    if not out.is_terminal:
        out = Console(width=120)  # a file or a pipe: wide enough for the table
    began = time.monotonic()

    def say(text: str) -> None:
        err.print(f"[dim]{time.monotonic() - began:6.1f}s[/] {text}", highlight=False)

    results: dict[str, Any] = {}
    try:
        asyncio.run(run(args, results, say))
    except (ServerFailed, LoadGenFailed, KeyboardInterrupt) as exc:
        message = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        results["error"] = message
        save(results, args.out, began)  # what was measured before the failure
        print(f"bench: error: {message} (partial results in {args.out})", file=sys.stderr)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    save(results, args.out, began)
    print_report(results, out)
    out.print(f"results: {args.out}  ·  took {results['duration_s']:.0f} s")
    return 0


def save(results: dict[str, Any], path: Path, began: float) -> None:
    results["duration_s"] = round(time.monotonic() - began, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


async def run(args: argparse.Namespace, results: dict[str, Any], say: Any) -> None:
    """Fill ``results`` step by step (a failure keeps what the earlier steps measured)."""
    plan = Plan(
        connections=args.connections, idle_k=max(args.idle_k, args.connections), seconds=args.seconds,
        warmup=args.warmup, idle=args.idle, idle_workers=args.idle_workers, payload=args.payload,
        idle_within=args.idle_within,
    )  # fmt: skip
    log_dir = args.out.parent
    results |= {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m bench " + " ".join(sys.argv[1:]),
        "machine": procstat.machine(),
        "ocpp_version": importlib.metadata.version("ocpp"),
        "websockets_version": importlib.metadata.version("websockets"),
        "picows_version": importlib.metadata.version("picows"),
        "plan": plan.__dict__,
    }
    if not args.skip_doctor:  # first: it prints its confusion matrix as it ends (bench/doctor.py)
        results["doctor"] = await doctor.measure(say)
    if not args.skip_chargewise:
        results["chargewise"] = await measure_server("chargewise", plan, log_dir, say)
    if not args.skip_baseline:
        results["baseline"] = await measure_server("baseline", plan, log_dir, say)
    if plan.idle:
        results["idle"] = await measure_idle(plan, log_dir, say)
    if args.simulator:
        results["simulator"] = await simulator_cost(args.simulator, say)
    if args.profile:
        from bench.hotspots import profile_metervalues

        results["profile"] = await profile_metervalues(plan, log_dir, say)


async def simulator_cost(chargers: int, say: Any) -> dict[str, Any]:
    """The simulator's own memory and CPU per charger (its load-generator mode, against its sink CSMS)."""
    say(f"simulator: {chargers:,} simulated chargers against the simulator's sink CSMS")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.simulator_cost", "--chargers", str(chargers),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), SIMULATOR_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return {"todo": f"the simulator's load-generator mode did not finish in {SIMULATOR_TIMEOUT:.0f} s"}
    lines = out.decode().strip().splitlines()
    try:
        found: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (err.decode().strip().splitlines() or ["no output"])[-1]
        return {"todo": f"the simulator's load-generator mode failed: {tail}"}
    if "todo" not in found:
        say(f"simulator: {found['rss_kib_per_charger']} KiB and {found['cpu_us_per_charger_second']} us CPU "
            "per charger-second")  # fmt: skip
    return found


if __name__ == "__main__":
    sys.exit(main())
