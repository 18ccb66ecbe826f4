"""Rules on links that die silently: an idle timer on the path (keepalive_timeout) or a flow dropped after an
address change (half_open). connectivity.md 3 D 17-23 and 6.

What tells them apart is what the link had survived before it died. A NAT or firewall idle timer kills
every link after the same quiet stretch, and no link ever survives a quiet stretch that long. A half-open
link had survived quiet stretches as long as the one it died in (it was healthy), then went silent once.
"""

from __future__ import annotations

import statistics
from datetime import timedelta

from chargewise.doctor import thresholds as th
from chargewise.doctor.advice import finding
from chargewise.doctor.evidence import disconnect, seconds
from chargewise.doctor.findings import Cause, Evidence, Finding
from chargewise.doctor.history import Context, Span
from chargewise.doctor.signals import ClosedBy


def silent_limit_s(ctx: Context) -> float:
    """Quiet longer than this on a link means the charger's frames were not getting through."""
    r = ctx.rhythm
    limits = [th.SILENT_HEARTBEATS * r.heartbeat_s]
    if r.ping_interval_s > 0:
        limits.append(r.ping_interval_s + r.ping_timeout_s)
    return min(limits)


def died_silent(ctx: Context, span: Span) -> bool:
    """Ended by our ping timeout, or without a close frame after a silence no live link has."""
    end = span.end
    if end is None:
        return False
    if end.closed_by is ClosedBy.PING_TIMEOUT:
        return True
    no_frame = end.closed_by in (ClosedBy.TRANSPORT, None) and end.close_code in (th.NO_CLOSE_FRAME, None)
    return no_frame and span.silence_s >= silent_limit_s(ctx)


def fatal_quiet_s(ctx: Context, span: Span) -> float:
    """How long the link had been quiet when the traffic that found it dead was sent (our lost ping)."""
    assert span.end is not None
    lost = [p.at for p in ctx.signals.pings if p.rtt_s is None and span.start <= p.at <= span.end.at]
    if span.end.closed_by is ClosedBy.PING_TIMEOUT:
        sent = lost[-1] if lost else span.end.at - timedelta(seconds=ctx.rhythm.ping_timeout_s)
        return max(0.0, (sent - span.last_life).total_seconds())
    return span.silence_s


def _ended(ctx: Context) -> list[Span]:
    return [s for s in ctx.ended if s.end is not None and s.end.closed_by is not ClosedBy.REPLACED]


def keepalive_timeout(ctx: Context) -> Finding | None:
    """Links die again and again after the same quiet stretch, which none of them ever survived (3 D)."""
    ended = _ended(ctx)
    deaths = [s for s in ended if died_silent(ctx, s)]
    if len(deaths) < th.KEEPALIVE_MIN_DEATHS or len(deaths) < th.KEEPALIVE_SHARE * len(ended):
        return None
    quiets = [fatal_quiet_s(ctx, s) for s in deaths]
    cut = min(quiets)
    survived = max((s.longest_quiet_s() for s in ctx.spans), default=0.0)
    if survived >= cut or cut <= 0:
        return None
    steady = max(quiets) <= 1.5 * cut
    weak = _weak(ctx)
    confidence = 0.6 + min(0.2, 0.05 * (len(deaths) - 2)) + (0.05 if steady else 0.0) - (0.25 if weak else 0.0)
    heartbeat = ctx.rhythm.heartbeat_s
    evidence = [
        Evidence(
            at=None,
            what="idle timer",
            value=f"links survive up to {seconds(survived)} of quiet and die "
            f"after {seconds(cut)}; the charger's heartbeat interval is {seconds(heartbeat)}",
        ),
        *(disconnect(s) for s in deaths[:5]),
    ]
    summary = (
        f"Something on the way forgets quiet connections: {len(deaths)} of {len(ended)} connections died after "
        f"{seconds(cut)} to {seconds(max(quiets))} without traffic, sooner than the charger's next heartbeat."
    )
    return finding(Cause.KEEPALIVE_TIMEOUT, confidence, summary, evidence)


def half_open(ctx: Context) -> Finding | None:
    """A link that had been healthy went silent, our ping found it dead, the charger came back later (3 D)."""
    spans = list(ctx.spans)
    candidates = []
    for k, span in enumerate(spans):
        if not died_silent(ctx, span):
            continue
        quiet = fatal_quiet_s(ctx, span)
        age = (span.last_life - span.start).total_seconds()
        if ctx.rhythm.ping_interval_s > 0:
            healthy = span.longest_quiet_s() >= 0.9 * quiet and age >= quiet
        else:
            healthy = age >= th.HALF_OPEN_MIN_AGE_QUIETS * ctx.rhythm.heartbeat_s
        if healthy:
            candidates.append((span, spans[k + 1] if k + 1 < len(spans) else None))
    if not candidates:
        return None
    span, nxt = candidates[-1]
    assert span.end is not None
    moved = nxt is not None and None not in (nxt.remote, span.remote) and nxt.remote != span.remote
    gap = (nxt.start - span.end.at).total_seconds() if nxt is not None else None
    usual = ctx.rhythm.reconnect_s or 0.0
    late = gap is not None and gap > max(ctx.rhythm.ping_timeout_s, th.RECONNECT_FACTOR * min(usual, gap / 2))
    confidence = 0.45 + (0.25 if moved else 0.0) + (0.1 if late else 0.0)
    confidence -= 0.25 if _weak(ctx) else 0.0
    confidence -= 0.1 * max(0, len(candidates) - 2)  # many of them: rather an idle timer or the radio
    evidence = [disconnect(span, extra=f"it had been up for {seconds((span.last_life - span.start).total_seconds())}")]
    if nxt is not None and gap is not None:
        where = f" from a new address {nxt.remote} (was {span.remote})" if moved else ""
        evidence.append(Evidence(at=nxt.start, what="reconnected", value=f"after {seconds(gap)}{where}"))
    summary = "A working connection went dead without being closed" + (
        f" and the charger came back from a new address ({nxt.remote})." if moved and nxt else "."
    )
    return finding(Cause.HALF_OPEN, confidence, summary, evidence)


def _weak(ctx: Context) -> bool:
    values = [s.rssi_dbm for s in ctx.signals.radio]
    return bool(values) and statistics.median(values) < th.CRITICAL_DBM
