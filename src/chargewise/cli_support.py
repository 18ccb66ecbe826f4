"""What every ``chargewise`` command shares: the one-line error, the config and store it works on, output.

``cli`` (the parser and ``main``) imports the commands, and the commands (``cli_commands``, ``demo``) import
this module, never ``cli``: the imports point one way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from chargewise.cli_locate import locate, missing_store
from chargewise.config import FileConfig, database_url, load_file
from chargewise.domain.ports import Store


class UsageError(Exception):
    """A bad argument or state the user can fix; printed as one line (so is an ``AdminError``)."""


def load_config(args: argparse.Namespace, *, use_record: bool = True) -> tuple[Path, str, FileConfig]:
    """The data directory (``cli_locate``: option, environment, ./data, the running server's record), the
    database URL (``--db``, ``$CHARGEWISE_DB``, the record's, SQLite in the directory) and the config file."""
    located = locate(args.data_dir, use_record=use_record)
    directory = located.directory
    recorded_db = None if args.db or os.environ.get("CHARGEWISE_DB") else located.db_url
    return directory, database_url(args.db or recorded_db, directory), load_file(getattr(args, "config", None),
                                                                                  directory)  # fmt: skip


@asynccontextmanager
async def opened_store(args: argparse.Namespace, *, create: bool = False) -> AsyncIterator[Store]:
    """The store ``--data-dir`` / ``--db`` name, closed on exit. A missing SQLite store is created only when
    ``create`` (a command that adds something); otherwise it is a one-line error saying where it looked."""
    from chargewise.adapters.sql import open_store

    _directory, url, _config = load_config(args)
    if url.startswith("sqlite"):
        _sqlite_store(url, create, args.data_dir)
    store = await open_store(url)
    try:
        yield store
    finally:
        await store.close()


def _sqlite_store(url: str, create: bool, data_dir: str | None) -> None:
    path = Path(url.split("///", 1)[1])
    if not path.exists():
        if not create:
            raise UsageError(missing_store(locate(data_dir), url))
        path.parent.mkdir(parents=True, exist_ok=True)  # a command that adds something makes the store it needs


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def wait_for_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
