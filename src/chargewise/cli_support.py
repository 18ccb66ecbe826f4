"""What every ``chargewise`` command shares: the one-line error, the config and store it works on, output.

``cli`` (the parser and ``main``) imports the commands, and the commands (``cli_commands``, ``demo``) import
this module, never ``cli``: the imports point one way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from chargewise.config import FileConfig, data_dir, database_url, load_file
from chargewise.domain.ports import Store


class UsageError(Exception):
    """A bad argument or state the user can fix; printed as one line (so is an ``AdminError``)."""


def load_config(args: argparse.Namespace) -> tuple[Path, str, FileConfig]:
    directory = data_dir(args.data_dir)
    return directory, database_url(args.db, directory), load_file(getattr(args, "config", None), directory)


@asynccontextmanager
async def opened_store(args: argparse.Namespace) -> AsyncIterator[Store]:
    """The store ``--data-dir`` / ``--db`` name, closed on exit."""
    from chargewise.adapters.sql import open_store

    _directory, url, _config = load_config(args)
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    store = await open_store(url)
    try:
        yield store
    finally:
        await store.close()


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def wait_for_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
