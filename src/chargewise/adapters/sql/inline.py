"""SQLite writes on the event-loop thread, through a connection of their own; reads stay on aiosqlite.

Under load, a SQLite write in aiosqlite's worker thread ran about five times slower than the same write
inline: every row's binding needs the GIL, which the busy event loop holds (a lock convoy), and each step of
the transaction waits a loop iteration for its result. The write is CPU work in this process either way, so
every write runs inline: one call, BEGIN to COMMIT. The group-committed meter batches take a driver-level
fast path (a 500-row batch blocks the loop for about 10 ms); the other writes run the store's Core statements
on a SQLAlchemy connection over the same SQLite connection (:meth:`InlineSqliteWriter.begin`). Through
aiosqlite, a batch of 30 last_seen updates had held the store's write turn for 100-300 ms at 80 % load, and
every meter batch waited behind it. The store holds its write turn around each inline write.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.pool import StaticPool

# the rule of ``statements.advance_register`` (registers only count up), as plain SQL for the driver
_ADVANCE_REGISTER = (
    "UPDATE transactions SET last_meter_wh = ? WHERE id = ? AND (last_meter_wh IS NULL OR last_meter_wh < ?)"
)


CHECKPOINT_EVERY = 4_000  # WAL pages (about 16 MB) written inline before a checkpoint is started
RESTART_FRAMES = 16_384  # WAL frames (64 MB) beyond which a checkpoint catches up, so that the WAL starts over
CHECKPOINT_ROUNDS = 3  # a catching-up checkpoint: rounds while writes go on, at most, before the last one
CATCH_UP_PAGES = 300  # pages written meanwhile that the last round, which holds the writes, may copy
CHECKPOINT_NICENESS = 10


class InlineSqliteWriter:
    """Checkpoints, which copy the WAL into the database file and sync it (tens to hundreds of milliseconds),
    are not left to the inline commits (SQLite's auto-checkpoint would run them inside a COMMIT, on the loop):
    this connection disables them and :meth:`checkpoint` runs them on a connection of its own, meant for a
    thread. The store decides when (``checkpoint_due``, ``restart_due``; see ``SqlStore._run_checkpoint``).
    """

    def __init__(self, path: str, *, synchronous: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (f"busy_timeout={busy_timeout_ms}", f"synchronous={synchronous.upper()}", "foreign_keys=ON",
                       "wal_autocheckpoint=0"):  # fmt: skip
            self._conn.execute(f"PRAGMA {pragma}")
        # Core statements on the same connection: the SQLite dialect's binds (times as fixed-width text) hold
        self._engine = create_engine("sqlite://", creator=lambda: self._conn, poolclass=StaticPool)
        event.listen(self._engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
        self._checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        #: the checkpoint thread, at a lower CPU priority: on a busy machine its copying (tens of milliseconds of
        #: CPU at a time) had taken the event loop's core, and every message waited meanwhile
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint", initializer=_lower_priority)
        #: the last round of a catching-up checkpoint, which holds the writes: at the default priority, since
        #: every meter batch waits for it (its time is mostly the fsyncs, about 2-5 ms of it CPU)
        self.final_executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint-final")
        self._pages_since_checkpoint = 0
        self._wal_frames = 0  # in the WAL at the last checkpoint

    @property
    def pages_since_checkpoint(self) -> int:
        """Pages written (about) since the last checkpoint started."""
        return self._pages_since_checkpoint

    @property
    def checkpoint_due(self) -> bool:
        return self._pages_since_checkpoint >= CHECKPOINT_EVERY

    @property
    def restart_due(self) -> bool:
        """Whether the next checkpoint should catch up with the last write, so that the WAL starts over."""
        return self._wal_frames >= RESTART_FRAMES

    def checkpoint(self, *, caught_up: bool = False) -> None:
        """Copy the WAL back into the database (PASSIVE: never blocks writers). Blocking I/O: run it in the
        checkpoint thread (:attr:`executor`). ``caught_up``: no write can have happened since the previous
        round (the caller holds the write turn), so the next write starts the WAL over."""
        self._pages_since_checkpoint = 0
        _busy, frames, _copied = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self._wal_frames = 0 if caught_up else frames

    def sync_database(self) -> None:
        """Flush the database file's pages that checkpoints copied (SQLite syncs it only in a checkpoint that
        caught up). Blocking I/O: run it in the checkpoint thread."""
        fd = os.open(self._path, os.O_RDWR)
        try:
            _datasync(fd)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE) on this connection, committed at the end of the block."""
        changes = self._conn.total_changes
        with self._engine.begin() as connection:
            yield connection
        # each row changed dirties about one page (the rows of a batch are scattered over the table)
        self._pages_since_checkpoint += 1 + self._conn.total_changes - changes

    def write_meter_values(
        self, statement: str, params: Sequence[tuple[Any, ...]], registers: dict[int, float]
    ) -> None:
        """Insert the meter values and raise the transactions' registers in one committed transaction."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(statement, params)
            if registers:
                conn.executemany(_ADVANCE_REGISTER, [(wh, tx, wh) for tx, wh in registers.items()])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        # each row dirties about one index page: the open transactions' insertion points are scattered
        self._pages_since_checkpoint += 1 + len(params)

    def close(self) -> None:
        self.executor.shutdown()
        self.final_executor.shutdown()
        self._engine.dispose()
        self._conn.close()
        self._checkpointer.close()


_datasync = getattr(os, "fdatasync", os.fsync)  # fdatasync where the OS has it (not macOS, not Windows)


def _lower_priority() -> None:
    # Linux: the niceness of this thread only; elsewhere, or where not permitted, the default priority
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHECKPOINT_NICENESS)
