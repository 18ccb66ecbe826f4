"""``python -m bench.doctor``: the connectivity doctor against the simulator's twelve network scenarios.

Every scenario runs on several simulated chargers (seeds x OCPP versions), all at once against ONE in-process
server, and the doctor explains each charger from what that server recorded (``LinkSignals``). Printed: the
confusion matrix (scenario x the cause the doctor named first) and the accuracy. The doctor never sees a
scenario name: chargers have opaque ids (``CP001``...), and the expected cause is used only for scoring.

Time compression, so that what the server observes stays physically consistent: the simulator runs ``speed``
times faster than real time, and the server runs on a clock injected at the same speed (``SpeedClock``: the
runner's simulated time), so every timestamp the server records, the heartbeat interval it hands out and the
doctor's thresholds are in simulated seconds. The server's own timers run on the event loop in real seconds,
so its WebSocket ping interval and timeout are divided by ``speed`` (180 s and 60 s of simulated time). Ping
round trips are measured in real seconds (loopback: milliseconds; the simulator does not delay pongs).

The run, the same for every charger (a charger's day, not a scenario's script): power on within the first
30 s, a car arrives at 900 s and leaves at 1800 s, and at ``restart_at`` the server closes every link cleanly
(a restart, as an operator's update would), so firmware that never reconnects after a clean close shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chargewise.bootstrap import App, Settings, start
from chargewise.doctor.findings import Cause, Diagnosis
from chargewise.doctor.signals import Signals
from chargewise.domain.model import OcppVersion, Registration
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.services.directory import entry_for
from chargewise.services.link_signals import Retention
from chargewise.simulator.faults import load_scenario, scenario_names
from chargewise.simulator.runner import ChargerSpec, Runner
from chargewise.simulator.templates import load_template
from chargewise.simulator.workload import Visit

#: what each scenario's root cause is (scoring only; ``simulator/scenarios/*.json`` describes each)
EXPECTED: dict[str, Cause] = {
    "healthy": Cause.HEALTHY, "weak-rssi": Cause.WEAK_SIGNAL, "car-in-path": Cause.VEHICLE_OBSTRUCTION,
    "sticky-mesh": Cause.STICKY_CLIENT, "wpa3-transition": Cause.WPA3_TRANSITION,
    "nat-idle-timeout": Cause.KEEPALIVE_TIMEOUT, "ip-change-spi": Cause.HALF_OPEN, "dns-sinkhole": Cause.DNS,
    "tls-expired": Cause.TLS, "tls-untrusted": Cause.TLS, "no-reconnect": Cause.FIRMWARE_NO_RECONNECT,
    "ground-fault": Cause.HEALTHY,  # a connector fault is not a connectivity problem
}  # fmt: skip
TEMPLATE = "chargepoint-home-flex"  # 2.4 GHz only, no WPA3 transition, no charger-side WebSocket ping
PING_INTERVAL_S, PING_TIMEOUT_S = 180.0, 60.0  # simulated seconds (divided by the speed for the server)
HEARTBEAT_S = 300
CAR_AT_S, CAR_GONE_S = 900.0, 1800.0
SUITE_TIMEOUT_S = 600.0
Diagnose = Callable[[Signals, datetime], Diagnosis]


class SpeedClock:
    """The server's clock: the runner's simulated time once it runs, its start before."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.runner: Runner | None = None

    def now(self) -> datetime:
        runner = self.runner
        if runner is None or runner.clock is None:
            return datetime.fromtimestamp(self.start, UTC)
        return datetime.fromtimestamp(runner.clock.sim(asyncio.get_running_loop().time()), UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    scenario: str
    seed: int
    version: OcppVersion
    charger_id: str
    signals: Signals
    diagnosis: Diagnosis

    @property
    def expected(self) -> Cause:
        return EXPECTED[self.scenario]

    @property
    def right(self) -> bool:
        return self.diagnosis.cause is self.expected


def _visit(index: int, start: float) -> Visit:
    return Visit(charger=index, connector=1, arrive_s=start + CAR_AT_S, depart_s=start + CAR_GONE_S, energy_wh=6000.0,
                 capacity_wh=60000.0, soc=0.4, obc_max_a=32.0, phases=1, id_tag="HOME-CARD")  # fmt: skip


def plan(seeds: Sequence[int], versions: Sequence[OcppVersion], start: float) -> list[tuple[str, int, ChargerSpec]]:
    """(scenario, seed, spec) per charger; ids say nothing of the scenario."""
    template = load_template(TEMPLATE)
    stagger = random.Random("doctor-bench")
    out = []
    for name in scenario_names():
        for seed in seeds:
            for version in versions:
                index = len(out)
                charger_id = f"CP{index + 1:03d}"
                spec = ChargerSpec(
                    charger_id=charger_id, template=template, version=version, scenario=load_scenario(name),
                    seed=f"{seed}/{charger_id}", visits=(_visit(index, start),), password="",
                    power_on_at=stagger.uniform(0.0, 30.0),
                )  # fmt: skip
                out.append((name, seed, spec))
    return out


async def _server(data_dir: Path, clock: SpeedClock, speed: float) -> App:
    settings = Settings(
        data_dir=data_dir, db_url=f"sqlite+aiosqlite:///{data_dir / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=0, http_port=0, admin_token="doctor-bench",
        policy=Policy(unknown_chargers=UnknownChargerPolicy.REJECT, heartbeat_interval=HEARTBEAT_S,
                      free_charging=True),
        link=LinkSettings(ping_interval=PING_INTERVAL_S / speed, ping_timeout=PING_TIMEOUT_S / speed,
                          call_timeout=10.0),
        doctor=Retention(flush_every_s=3600.0),
    )  # fmt: skip
    return await start(settings, clock=clock, with_http=False)


async def run_suite(*, data_dir: Path, seeds: Sequence[int] = (1, 2, 3),
                    versions: Sequence[OcppVersion] = (OcppVersion.V16, OcppVersion.V201), speed: float = 60.0,
                    sim_seconds: float = 2800.0, restart_at: float = 1950.0,
                    diagnose: Diagnose | None = None) -> list[Outcome]:  # fmt: skip
    """Run every scenario on ``len(seeds) * len(versions)`` chargers at once; the doctor's verdict on each
    (``diagnose``: the doctor's rules, by default ``chargewise.doctor.rules.diagnose``)."""
    if diagnose is None:
        from chargewise.doctor.rules import diagnose

    begin = float(int(time.time()))
    clock = SpeedClock(begin)
    app = await _server(data_dir, clock, speed)
    app.central.link_signals.timer_scale = speed  # its ping settings, in the clock's (simulated) seconds
    runner: Runner | None = None
    try:
        planned = plan(seeds, versions, begin)
        for _, _, spec in planned:  # added by their owner, as a home owner adds a charger
            app.directory.put(entry_for(await app.store.add_charger(spec.charger_id,
                                                                    registration=Registration.ACCEPTED)))  # fmt: skip
        runner = Runner([spec for _, _, spec in planned], url=f"ws://127.0.0.1:{app.ocpp.port}/ocpp", speed=speed,
                        start=begin)  # fmt: skip
        await runner.start()
        clock.runner = runner
        await asyncio.sleep(restart_at / speed)
        for link in app.registry.links():
            link.close("server restart")
        await asyncio.sleep((sim_seconds - restart_at) / speed)
        now = clock.now()
        since = datetime.fromtimestamp(begin, UTC)
        outcomes = []
        for name, seed, spec in planned:
            cid = spec.charger_id
            signals = await app.central.link_signals.signals(
                cid, since, now, charger=await app.store.get_charger(cid), connected_now=cid in app.registry,
                transactions=await app.store.list_transactions(charger_id=cid))  # fmt: skip
            outcomes.append(Outcome(scenario=name, seed=seed, version=spec.version, charger_id=cid, signals=signals,
                                    diagnosis=diagnose(signals, now)))  # fmt: skip
        return outcomes
    finally:
        if runner is not None:
            await runner.stop()
        await app.stop()


def confusion(outcomes: Sequence[Outcome]) -> dict[str, Counter[str]]:
    """scenario -> how often each cause was named first."""
    matrix: dict[str, Counter[str]] = {}
    for o in outcomes:
        matrix.setdefault(o.scenario, Counter())[o.diagnosis.cause.value] += 1
    return matrix


def accuracy(outcomes: Sequence[Outcome]) -> float:
    return sum(o.right for o in outcomes) / len(outcomes) if outcomes else 0.0


def print_matrix(outcomes: Sequence[Outcome]) -> None:
    from rich.console import Console
    from rich.table import Table

    causes = [c.value for c in Cause]
    table = Table(title="connectivity doctor: scenario x cause named first")
    table.add_column("scenario", no_wrap=True)
    table.add_column("expected", no_wrap=True)
    used = [c for c in causes if any(o.diagnosis.cause.value == c for o in outcomes) or c in
            {e.value for e in EXPECTED.values()}]  # fmt: skip
    for cause in used:
        table.add_column(cause.replace("_", " "), justify="right")
    for scenario, counts in confusion(outcomes).items():
        expected = EXPECTED[scenario].value
        cells = [(f"[green]{counts[c]}[/]" if c == expected else f"[red]{counts[c]}[/]") if counts[c] else "."
                 for c in used]  # fmt: skip
        table.add_row(scenario, expected, *cells)
    console = Console(width=max(Console().width, 150))  # the matrix is wide
    console.print(table)
    console.print(f"accuracy {accuracy(outcomes):.1%} of {len(outcomes)} runs")


async def _main(args: argparse.Namespace) -> int:
    logging.getLogger("chargewise.adapters.ws_server").setLevel(logging.ERROR)  # dead links are the point here
    with tempfile.TemporaryDirectory(prefix="doctor-bench-") as tmp:
        began = time.monotonic()
        outcomes = await run_suite(data_dir=Path(tmp), seeds=tuple(range(1, args.seeds + 1)), speed=args.speed)
        took = time.monotonic() - began
        print_matrix(outcomes)
        print(f"{took:.0f} s real time, speed {args.speed:g}")
    if args.json is not None:
        result = {"accuracy": round(accuracy(outcomes), 4), "runs": len(outcomes), "real_s": round(took, 1),
                  "matrix": {scenario: dict(counts) for scenario, counts in confusion(outcomes).items()}}  # fmt: skip
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


async def measure(say: Callable[[str], None]) -> dict[str, Any]:
    """For ``python -m bench``: this module's run in its own process (it prints the matrix); its figures."""
    say("connectivity doctor: the twelve network scenarios, 3 seeds x 2 OCPP versions, one server")
    with tempfile.TemporaryDirectory(prefix="doctor-bench-") as tmp:
        out = Path(tmp) / "doctor.json"
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.doctor", "--json", str(out))
        try:
            await asyncio.wait_for(proc.wait(), SUITE_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return {"error": f"no result within {SUITE_TIMEOUT_S:.0f} s"}
        if proc.returncode != 0 or not out.exists():
            return {"error": f"python -m bench.doctor exited with {proc.returncode}"}
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.doctor", description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3, help="seeds per scenario and OCPP version (default 3)")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    p.add_argument("--json", type=Path, help="also write the accuracy and the matrix to this file")
    return asyncio.run(_main(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
