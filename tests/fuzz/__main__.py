"""``python -m tests.fuzz``: the long fuzz run behind ``make fuzz``, against an in-process server on a fresh
SQLite store in a temporary directory. Prints the figures and a few frames of each kind of failure; exits 1
if any frame got an InternalError, no reply, a stray reply, a closed link, or stored something when refused."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from tests.conftest import start_server
from tests.fuzz.run import Figures, run


def parse(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument(
        "--frames",
        type=int,
        default=int(env("FUZZ_FRAMES", "125000")),
        help="frames per version (default 125000, both versions: 250,000; env FUZZ_FRAMES)",
    )
    parser.add_argument("--seed", type=int, default=int(env("FUZZ_SEED", "1")), help="env FUZZ_SEED")
    parser.add_argument(
        "--version", action="append", choices=["1.6", "2.0.1"], help="fuzz only this version (repeatable; default both)"
    )
    parser.add_argument("--no-store-check", action="store_true", help="skip the per-frame row comparison")
    parser.add_argument(
        "--db-url",
        default=env("FUZZ_DB_URL"),
        help="a database URL to serve from instead (postgresql+asyncpg://...; its tables are "
        "created if missing; rows are compared only on the default SQLite; env FUZZ_DB_URL)",
    )
    return parser.parse_args(argv)  # fmt: skip


async def main(args: argparse.Namespace) -> Figures:
    with tempfile.TemporaryDirectory(prefix="chargewise-fuzz-") as tmp:
        server = await start_server(Path(tmp) / "data", db_url=args.db_url)
        try:
            checked = not args.no_store_check and args.db_url is None
            db_path = server.app.settings.data_dir / "chargewise.db" if checked else None
            versions = tuple(args.version or ("1.6", "2.0.1"))
            return await run(server.ocpp_url, seed=args.seed, frames=args.frames, versions=versions, db_path=db_path)
        finally:
            await server.app.stop()


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    figures = asyncio.run(main(arguments))
    print(figures.summary())
    for name, frames in figures.examples().items():
        print(f"\n{name}:")
        for frame in frames:
            print(f"  {frame}")
    sys.exit(1 if figures.examples() else 0)
