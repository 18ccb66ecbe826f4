"""SQLite batch writes on the event-loop thread, through a connection of their own.

Under load, a SQLite write in aiosqlite's worker thread ran about five times slower than the same write
inline: every row's binding needs the GIL, which the busy event loop holds (a lock convoy), and each step of
the transaction waits a loop iteration for its result. The write is CPU work in this process either way, so
the group-committed meter batches run inline: one call, BEGIN to COMMIT, bounded by the batch size
(a 500-row batch blocks the loop for about 10 ms). The store holds its SQLite write turn around it,
so no transaction of its own aiosqlite connections is open meanwhile.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

# the rule of ``statements.advance_register`` (registers only count up), as plain SQL for the driver
_ADVANCE_REGISTER = (
    "UPDATE transactions SET last_meter_wh = ? WHERE id = ? AND (last_meter_wh IS NULL OR last_meter_wh < ?)"
)


CHECKPOINT_EVERY = 16_000  # WAL pages (about 64 MB) written inline before a checkpoint is started


class InlineSqliteWriter:
    """Checkpoints, which copy the WAL into the database file and sync it (hundreds of milliseconds), are not
    left to the inline commits (SQLite's auto-checkpoint would run them inside a COMMIT, on the loop): this
    connection disables them and :meth:`checkpoint` runs them on a connection of its own, meant for a thread.
    """

    def __init__(self, path: str, *, synchronous: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (f"busy_timeout={busy_timeout_ms}", f"synchronous={synchronous.upper()}", "foreign_keys=ON",
                       "wal_autocheckpoint=0"):  # fmt: skip
            self._conn.execute(f"PRAGMA {pragma}")
        self._checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        self._pages_since_checkpoint = 0

    @property
    def checkpoint_due(self) -> bool:
        return self._pages_since_checkpoint >= CHECKPOINT_EVERY

    def checkpoint(self) -> None:
        """Copy the WAL back into the database (PASSIVE: never blocks writers). Blocking I/O: run in a thread."""
        self._pages_since_checkpoint = 0
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

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
        self._conn.close()
        self._checkpointer.close()
