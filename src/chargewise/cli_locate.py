"""Where the CLI finds the store and the running server, wherever it is started from.

The data directory, first found wins:

1. ``--data-dir DIR``;
2. ``$CHARGEWISE_DATA_DIR``;
3. ``./data``, if it exists;
4. the data directory the last ``chargewise serve`` recorded in ``$CHARGEWISE_STATE_DIR/server.json``
   (default ``$XDG_STATE_HOME/chargewise``, i.e. ``~/.local/state/chargewise``), with its database URL and
   REST address, if that directory still exists;
5. ``./data`` (what ``serve`` creates when started with nothing else).

A command that only reads (lists, show, status, trace, call) never creates a store: when there is none where
it looked, it says in one line where that was and how to point it. ``serve`` records where it runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

RECORD = "server.json"


@dataclass(frozen=True, kw_only=True)
class Located:
    directory: Path
    how: str  # which rule found it, for the messages
    db_url: str | None = None  # the recorded server's database (rule 4)
    http_url: str | None = None  # the recorded server's REST address (rule 4)


def state_dir() -> Path:
    base = os.environ.get("CHARGEWISE_STATE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "chargewise"


def recorded() -> dict[str, str] | None:
    """What the last ``serve`` recorded (None: nothing, or unreadable)."""
    try:
        record = json.loads((state_dir() / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def record_server(directory: Path, db_url: str, http_url: str) -> None:
    """``serve``: remember where it runs, for CLI commands started elsewhere (best effort, never fatal)."""
    record = {"data_dir": str(directory.resolve()), "db_url": db_url, "http_url": http_url, "pid": os.getpid()}
    try:
        state_dir().mkdir(parents=True, exist_ok=True)
        path = state_dir() / RECORD
        path.write_text(json.dumps(record, indent=2) + "\n")
        path.chmod(0o600)
    except OSError:
        pass


def locate(option: str | None, *, use_record: bool = True) -> Located:
    """Where the store is (the module's order); ``use_record`` False for ``serve``, which starts where it is told
    (or in ./data), never where the last server ran."""
    if option:
        return Located(directory=Path(option), how="--data-dir")
    env = os.environ.get("CHARGEWISE_DATA_DIR")
    if env:
        return Located(directory=Path(env), how="$CHARGEWISE_DATA_DIR")
    here = Path("data")
    if here.is_dir():
        return Located(directory=here, how="./data")
    record = recorded() if use_record else None
    if record is not None and Path(record.get("data_dir", "")).is_dir():
        return Located(directory=Path(record["data_dir"]), how=f"the server record {state_dir() / RECORD}",
                       db_url=record.get("db_url"), http_url=record.get("http_url"))  # fmt: skip
    return Located(directory=here, how="the default ./data")


def missing_store(located: Located, url: str) -> str:
    """The one line a read command says when there is no store where it looked."""
    where = url.split("///", 1)[1] if url.startswith("sqlite") else url
    return (
        f"no chargewise store at {where} (found by {located.how}; also looked at $CHARGEWISE_DATA_DIR, ./data and "
        f"{state_dir() / RECORD}); point to it with --data-dir DIR or CHARGEWISE_DATA_DIR, or run chargewise serve"
    )


def admin_token(directory: Path) -> str | None:
    """``$CHARGEWISE_ADMIN_TOKEN``, else the token ``serve`` keeps in the data directory; never a new one."""
    token = os.environ.get("CHARGEWISE_ADMIN_TOKEN")
    if token:
        return token
    try:
        return (directory / "admin-token").read_text().strip() or None
    except OSError:
        return None


def server_url(option: str | None) -> str:
    """``--server``, else ``$CHARGEWISE_SERVER``, else the recorded server's REST address, else port 8080 here."""
    if option:
        return option
    env = os.environ.get("CHARGEWISE_SERVER")
    if env:
        return env
    record = recorded()
    if record is not None and record.get("http_url"):
        return record["http_url"]
    return "http://127.0.0.1:8080"
