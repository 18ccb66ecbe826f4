"""A charger's link in figures, from the doctor's ``Signals``: connections, reconnect rate, ping round trips
(p50/p95, loss), radio. Pure; the REST API and ``chargewise doctor explain`` show the same (the timeline is
``chargewise.doctor.explain.timeline``)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from chargewise.doctor.signals import LinkEventKind, Signals


@dataclass(frozen=True, kw_only=True, slots=True)
class Summary:
    connections: int
    disconnects: int
    reconnects_per_day: float | None
    ping_p50_ms: float | None
    ping_p95_ms: float | None
    ping_loss: float | None  # share of our pings that went unanswered
    rssi_median_dbm: float | None
    rssi_min_dbm: float | None
    heartbeats: int
    addresses: tuple[str, ...]


def summary(signals: Signals, now: datetime) -> Summary:
    connects = [e for e in signals.links if e.kind is LinkEventKind.CONNECTED]
    ends = [e for e in signals.links if e.kind is LinkEventKind.DISCONNECTED]
    days = max((now - signals.since).total_seconds() / 86_400, 1e-9)
    rtts = sorted(p.rtt_s * 1000 for p in signals.pings if p.rtt_s is not None)
    rssi = [r.rssi_dbm for r in signals.radio]
    addresses = tuple(dict.fromkeys(e.remote for e in signals.links if e.remote))
    return Summary(
        connections=len(connects), disconnects=len(ends),
        reconnects_per_day=round(max(len(connects) - 1, 0) / days, 1) if connects else None,
        ping_p50_ms=round(_quantile(rtts, 0.5), 1) if rtts else None,
        ping_p95_ms=round(_quantile(rtts, 0.95), 1) if rtts else None,
        ping_loss=round(sum(p.rtt_s is None for p in signals.pings) / len(signals.pings), 3) if signals.pings else None,
        rssi_median_dbm=statistics.median(rssi) if rssi else None, rssi_min_dbm=min(rssi) if rssi else None,
        heartbeats=len(signals.heartbeats), addresses=addresses,
    )  # fmt: skip


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
