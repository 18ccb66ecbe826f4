"""``chargewise`` under cProfile: ``python -m bench.profiled_serve OUT.prof serve ...``.

The main thread (the event loop: sockets, validation, handlers, SQLAlchemy) is profiled between SIGUSR1 and
SIGUSR2, so that the statistics cover the measured window only; they are written to OUT.prof on exit (SIGINT
stops the server cleanly). Threads started later (the SQLite writer of aiosqlite) are profiled from their
start to their end, into OUT.prof.threads. Profiling slows the server down several times: its figures are for
finding hot spots, never for the results table.
"""

from __future__ import annotations

import cProfile
import pstats
import signal
import sys
import threading
from typing import Any

_thread_profiles: list[cProfile.Profile] = []
_bootstrap_inner = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]


def _profiled_bootstrap_inner(self: threading.Thread) -> Any:
    profile = cProfile.Profile()
    _thread_profiles.append(profile)
    profile.enable()
    try:
        return _bootstrap_inner(self)
    finally:
        profile.disable()


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    threading.Thread._bootstrap_inner = _profiled_bootstrap_inner  # type: ignore[attr-defined]
    from chargewise.cli import main as chargewise_main

    profile = cProfile.Profile()
    signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
    signal.signal(signal.SIGUSR2, lambda *_: profile.disable())
    try:
        code = chargewise_main(argv)
    finally:
        profile.disable()
        pstats.Stats(profile).dump_stats(out)
        if _thread_profiles:
            threads = pstats.Stats(_thread_profiles[0])
            for thread_profile in _thread_profiles[1:]:
                threads.add(thread_profile)
            threads.dump_stats(out + ".threads")
    return code


if __name__ == "__main__":
    sys.exit(main())
