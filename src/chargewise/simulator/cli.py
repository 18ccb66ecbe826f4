"""``chargewise simulate``: N simulated chargers against any CSMS URL.

The main CLI calls :func:`add_arguments` on its ``simulate`` sub-parser and awaits :func:`run`. Errors are
one line on stderr with exit code 2; a run where no charger ever connected exits 1 and says why.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterator

from rich.console import Console
from rich.live import Live
from rich.table import Table

from chargewise.domain.model import OcppVersion
from chargewise.simulator.faults import ScenarioError, scenario_names
from chargewise.simulator.runner import WARM_START_S, WORKLOADS, Runner, Summary, plan
from chargewise.simulator.site import chargers_table
from chargewise.simulator.templates import TemplateError, template_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` options to ``parser``."""
    parser.add_argument(
        "--url", required=True, help="CSMS WebSocket URL; the charger id is appended (ws://HOST:9000/ocpp)"
    )
    parser.add_argument("--chargers", type=int, default=1, help="how many chargers (ids PREFIX1 .. PREFIXN)")
    parser.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6", help="OCPP version (default 1.6)")
    parser.add_argument("--template", default="esp32-generic", help=f"charger template: {', '.join(template_names())}")
    parser.add_argument("--scenario", default="healthy", help=f"network scenario: {', '.join(scenario_names())}")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="simulated seconds to run (real time: duration / speed); default until Ctrl-C",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="time acceleration: 60 runs an hour in a minute")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same run (EVs, faults, jitter)")
    parser.add_argument("--id-prefix", default="SIM", help="charger ids are PREFIX1 .. PREFIXN (default SIM)")
    parser.add_argument(
        "--workload",
        choices=WORKLOADS,
        default="home",
        help="EV arrivals (default home: evenings, workplace: weekday mornings). Runs start warm: a connector "
        f"with no EV gets one within the first {WARM_START_S / 60:.0f} simulated minutes (staying 3-6 h), so a "
        "short run shows charging at any hour; then the daily profile follows. acn replays as recorded",
    )
    parser.add_argument("--acn-file", help="acnportal EventQueue .json.gz for --workload acn")
    parser.add_argument("--ramp", type=float, default=None, help="simulated seconds over which chargers power on")
    parser.add_argument("--password", default=None, help="Basic-auth password for every charger (default: template's)")
    parser.add_argument("--live", action="store_true", help="show a live table of the chargers")


def _check(args: argparse.Namespace) -> str | None:
    if not args.url.startswith(("ws://", "wss://")):
        return f"--url must start with ws:// or wss://, got {args.url!r}"
    if args.chargers < 1:
        return "--chargers must be at least 1"
    if args.speed <= 0:
        return "--speed must be positive"
    if args.duration is not None and args.duration <= 0:
        return "--duration must be positive"
    if args.workload == "acn" and not args.acn_file:
        return "--workload acn needs --acn-file PATH"
    return None


async def run(args: argparse.Namespace) -> int:
    """Run the simulation described by ``args``; returns the exit code."""
    problem = _check(args)
    start = time.time()
    if problem is None:
        try:
            specs = plan(
                chargers=args.chargers,
                version=OcppVersion(args.ocpp),
                template=args.template,
                scenario=args.scenario,
                seed=args.seed,
                id_prefix=args.id_prefix,
                start=start,
                workload_kind=args.workload,
                acn_file=args.acn_file,
                ramp_s=args.ramp if args.ramp is not None else args.chargers / 200.0 * args.speed,
                password=args.password,
            )
        except (TemplateError, ScenarioError, ValueError, OSError) as exc:
            problem = str(exc)
    if problem is not None:
        print(f"chargewise simulate: error: {problem}", file=sys.stderr)
        return 2
    runner = Runner(specs, url=args.url, speed=args.speed, start=start)
    console = Console(stderr=False)
    await runner.start()
    try:
        await _wait(runner, args, console)
        summary = runner.summary()  # before stopping: "connected at the end" counts live connections
    finally:
        await runner.stop()
    if args.live:
        console.line()
    console.print(summary_table(summary, args))
    errors = runner.errors()
    if errors:
        charger_id, error = errors[0]
        first = f"first {charger_id}: {error!r}"
        print(
            f"chargewise simulate: error: {len(errors)} charger(s) stopped by a simulator bug, {first}", file=sys.stderr
        )
        return 1
    if summary.connects == 0:
        stages = ", ".join(f"{k} x{v}" for k, v in summary.failures_by_stage.items()) or "no attempt finished"
        print(f"chargewise simulate: error: no charger connected to {args.url} ({stages})", file=sys.stderr)
        return 1
    return 0


async def _wait(runner: Runner, args: argparse.Namespace, console: Console) -> None:
    """Until the duration is over or SIGINT/SIGTERM; with ``--live``, redraw the table twice a second."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline = None if args.duration is None else loop.time() + args.duration / args.speed
    with _signals(stop), contextlib.ExitStack() as stack:
        live = None
        if args.live:
            live = stack.enter_context(Live(chargers_table(runner.views()), console=console, refresh_per_second=2))
        while not stop.is_set() and (deadline is None or loop.time() < deadline):
            if live is not None:
                live.update(chargers_table(runner.views()))
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


@contextlib.contextmanager
def _signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def summary_table(s: Summary, args: argparse.Namespace) -> Table:
    table = Table(title=f"chargewise simulate: {s.chargers} x {args.template} (OCPP {args.ocpp}, {args.scenario})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("connected at the end", f"{s.connected}/{s.chargers}"),
        ("connections opened", s.connects),
        ("disconnections", s.disconnects),
        ("BootNotifications accepted", s.boots),
        ("failed connection attempts", s.connect_failures),
        ("transactions started", s.transactions),
        ("energy metered", f"{s.energy_wh / 1000:.1f} kWh"),
        ("transaction messages still queued", s.queued),
        ("meter messages dropped (queue full)", s.dropped),
    ]
    rows += [(f"  failures at {stage}", n) for stage, n in sorted(s.failures_by_stage.items())]
    for name, value in rows:
        table.add_row(name, str(value))
    return table
