"""Reading a token's past sessions from the store, for needs learned per id token (``charging/learned.py``)."""

from __future__ import annotations

from datetime import tzinfo

from chargewise.charging.learned import Learned, PastSession, learn
from chargewise.domain.model import Transaction
from chargewise.domain.ports import Store

HISTORY = 2_000  # the newest completed transactions searched for the token's (the store has no token index)


def past_sessions(transactions: list[Transaction], id_tag: str) -> list[PastSession]:
    """The token's completed sessions (not those a reaper closed: their end is not the car's departure)."""
    out = []
    for tx in transactions:
        if tx.id_tag != id_tag or tx.stopped_at is None or tx.provisional:
            continue
        energy = None
        if tx.meter_start_wh is not None and tx.meter_stop_wh is not None:
            energy = (tx.meter_stop_wh - tx.meter_start_wh) / 1000.0
        out.append(PastSession(stopped_at=tx.stopped_at, energy_kwh=energy))
    return out


async def learned_for(store: Store, tx: Transaction, zone: tzinfo | None) -> Learned | None:
    """What the running ``tx`` likely wants, from its token's history; None without a token or enough history."""
    if not tx.id_tag:
        return None
    history = past_sessions(await store.list_transactions(active=False, limit=HISTORY), tx.id_tag)
    return learn(history, tx.started_at, zone)
