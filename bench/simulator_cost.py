"""The charger simulator's own cost per charger, from its load-generator mode (``chargewise.simulator.loadgen``).

Run by ``python -m bench`` as a child process: ``python -m bench.simulator_cost --chargers 10000``. It starts the
simulator's sink CSMS (a minimal picows server, so that only the simulator is measured), connects the chargers
with the simulator's own runner, measures that process and prints one JSON line. The figures are the
simulator's: RSS per charger and CPU per charger-second (microseconds of CPU per second per charger).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import socket
import sys


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chargers", type=int, default=10_000)
    p.add_argument("--ramp", type=float, default=10.0, help="seconds over which the chargers power on")
    p.add_argument("--window", type=float, default=10.0, help="seconds of steady state measured")
    args = p.parse_args()
    try:
        from chargewise.simulator import loadgen
    except ImportError as exc:
        print(json.dumps({"todo": f"chargewise.simulator has no load-generator mode ({exc})"}))
        return 0
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with loadgen.sink_process(port) as url:
        report = asyncio.run(loadgen.measure(url, chargers=args.chargers, ramp_s=args.ramp, window_s=args.window))
    print(json.dumps(dataclasses.asdict(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
