"""What a person reads of a charger's link: its timeline (connections, disconnects, refusals, boots, security
events, connector faults) and a summary (ping round trips, radio, reconnects), from the doctor's ``Signals``.
Pure; the REST API and ``chargewise doctor explain`` render the same."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from chargewise.doctor.signals import ClosedBy, LinkEvent, LinkEventKind, Signals

WHO_CLOSED = {
    ClosedBy.CHARGER: "the charger closed it",
    ClosedBy.SERVER: "we closed it",
    ClosedBy.PING_TIMEOUT: "our ping went unanswered",
    ClosedBy.TRANSPORT: "the network connection ended without a goodbye",
    ClosedBy.REPLACED: "a newer connection of the charger took over",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    at: datetime
    what: str  # connected, disconnected, refused, tls_failed, boot, security_event, fault
    detail: str


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


def timeline(signals: Signals) -> list[Entry]:
    """Oldest first."""
    out: list[Entry] = []
    opened: datetime | None = None
    for e in signals.links:
        if e.kind is LinkEventKind.CONNECTED:
            opened = e.at
        out.append(Entry(at=e.at, what=e.kind.value, detail=_link_detail(e, opened)))
        if e.kind is LinkEventKind.DISCONNECTED:
            opened = None
    out += [Entry(at=b.at, what="boot", detail=f"reason {b.reason or 'not told'}"
                  + (f", firmware {b.firmware}" if b.firmware else "")) for b in signals.boots]  # fmt: skip
    out += [Entry(at=s.at, what="security_event", detail=s.type + (f": {s.tech_info}" if s.tech_info else ""))
            for s in signals.security_events]  # fmt: skip
    out += [Entry(at=s.at, what="fault", detail=f"connector {s.evse_id}/{s.connector_id} {s.status} {s.error_code}"
                  + (f" ({s.info})" if s.info else "")) for s in signals.statuses if s.error_code]  # fmt: skip
    return sorted(out, key=lambda entry: entry.at)


def _link_detail(e: LinkEvent, opened: datetime | None) -> str:
    if e.kind is LinkEventKind.CONNECTED:
        return f"from {e.remote or 'an unknown address'}" + (f" over {e.tls_version}" if e.tls_version else "")
    if e.kind is LinkEventKind.DISCONNECTED:
        parts = [WHO_CLOSED.get(e.closed_by, "ended") if e.closed_by else "ended", f"code {e.close_code}"]
        if opened is not None:
            parts.append(f"after {_span((e.at - opened).total_seconds())}")
        if e.last_frame_at is not None:
            parts.append(f"last heard {_span((e.at - e.last_frame_at).total_seconds())} before")
        return ", ".join(parts) + (f" ({e.detail})" if e.detail else "")
    return e.detail


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


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
