"""``--profile``: chargewise under cProfile with the MeterValues load, and its top functions.

A separate server run: the profiler slows chargewise several times, so nothing from it enters the results.
"""

from __future__ import annotations

import io
import pstats
import signal
from pathlib import Path
from typing import Any

from bench.pool import Pool
from bench.scenario import Plan, Progress, phase
from bench.servers import start_chargewise


async def profile_metervalues(plan: Plan, out_dir: Path, say: Progress, top: int = 30) -> dict[str, Any]:
    prof = out_dir / "profile-chargewise.prof"
    server = start_chargewise(out_dir, profile_to=prof)
    pool: Pool | None = None
    try:
        pool = await Pool.start(server.url, 1, tag="pr", payload=plan.payload)
        say(f"profile: chargewise under cProfile, {plan.connections:,} chargers, MeterValues for {plan.seconds:.0f} s")
        await pool.connect(plan.connections, start_tx=True)

        def window(opening: bool) -> None:  # profile the measured window only
            server.process.send_signal(signal.SIGUSR1 if opening else signal.SIGUSR2)

        measured = await phase(
            server, pool, name="profiled", mix=False, rate=None, plan=plan, conns=plan.connections, window=window
        )
    finally:
        if pool is not None:
            await pool.stop()
        server.stop(timeout=60)
    if not prof.exists():
        return {"error": f"no profile written (see {server.log})", "phase": measured}
    text = io.StringIO()
    text.write("== event-loop thread, measured window only ==\n")
    stats = pstats.Stats(str(prof), stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    threads = Path(str(prof) + ".threads")
    if threads.exists():  # noqa: ASYNC240
        text.write("== other threads (aiosqlite's SQLite thread), whole run; queue waits are idle time ==\n")
        stats = pstats.Stats(str(threads), stream=text)
        stats.sort_stats("tottime").print_stats(top // 2)
    report = out_dir / "profile-chargewise.txt"
    report.write_text(text.getvalue())
    say(f"profile: written to {report} ({measured['answered']:,} MeterValues answered under the profiler)")
    return {"prof": str(prof), "text": str(report), "phase": measured}
