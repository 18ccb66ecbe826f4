"""Rules on links that die silently: an idle timer on the path (keepalive_timeout) or a flow dropped after an
address change (half_open). connectivity.md 3 D 17-23 and 6.

What tells them apart: an idle timer kills link after link, each after the same quiet stretch, and no link
ever lives through a quiet stretch that long; a half-open link dies once (an address change), after it had
lived through quiet stretches as long, and the charger, which did not notice, comes back late or from a new
address. How long a link stayed quiet is measured from the server's view of it (``LinkEvent.longest_quiet_s``
when the server tracks it, else estimated from the recorded signs of life).
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


def died_silent(ctx: Context, span: Span) -> bool:
    """Ended by our ping timeout; or without a close frame, or by our own close, after a silence no live link
    has (our close then went into a link that was already dead: the charger never saw it)."""
    end = span.end
    if end is None:
        return False
    if end.closed_by is ClosedBy.PING_TIMEOUT:
        return True
    no_frame = end.closed_by in (ClosedBy.TRANSPORT, None) and end.close_code in (th.NO_CLOSE_FRAME, None)
    return (no_frame or end.closed_by is ClosedBy.SERVER) and span.silence_s >= ctx.rhythm.dead_s


def fatal_quiet_s(ctx: Context, span: Span) -> float:
    """How long the link had been quiet when the traffic that found it dead was sent (our lost ping)."""
    assert span.end is not None
    lost = [p.at for p in ctx.signals.pings if p.rtt_s is None and span.start <= p.at <= span.end.at]
    if span.end.closed_by is ClosedBy.PING_TIMEOUT:
        sent = lost[-1] if lost else span.end.at - timedelta(seconds=ctx.rhythm.ping_timeout_s)
        return max(0.0, (sent - span.last_life).total_seconds())
    return span.silence_s


def survived_quiet_s(ctx: Context) -> float:
    """The longest quiet stretch any link lived through (not counting the silences they died in)."""
    return max((s.longest_quiet_s() for s in ctx.spans), default=0.0)


def idle_explained(ctx: Context, span: Span) -> bool:
    """A silent death an idle timer explains: no link ever survived a quiet as long as the one it died in.
    Without our pings the quiet that killed it is unknown; then a link that had worked for two heartbeat
    intervals before it died counts as not explained (half-open), a younger one as explained."""
    if ctx.rhythm.ping_interval_s > 0:
        return survived_quiet_s(ctx) + th.PING_SLACK * ctx.rhythm.ping_interval_s < fatal_quiet_s(ctx, span)
    age = (span.last_life - span.start).total_seconds()
    return age < th.HALF_OPEN_MIN_AGE_HEARTBEATS * ctx.rhythm.heartbeat_s


def path_ended(ctx: Context) -> list[Span]:
    """Links that ended for a reason on the path: not replaced, not closed by us while they were alive."""
    return [
        s
        for s in ctx.ended
        if s.end is not None
        and s.end.closed_by is not ClosedBy.REPLACED
        and (s.end.closed_by is not ClosedBy.SERVER or died_silent(ctx, s))
    ]


def keepalive_timeout(ctx: Context) -> Finding | None:
    """Links die again and again after the same quiet stretch, which none of them ever survived (3 D)."""
    ended = path_ended(ctx)
    deaths = [s for s in ended if died_silent(ctx, s)]
    if len(deaths) < th.KEEPALIVE_MIN_DEATHS or len(deaths) < th.KEEPALIVE_SHARE * len(ended):
        return None
    quiets = [fatal_quiet_s(ctx, s) for s in deaths]
    cut = min(quiets)
    survived = survived_quiet_s(ctx)
    confirmed = all(idle_explained(ctx, s) for s in deaths)  # no link lived through a quiet that long
    steady = max(quiets) <= 1.5 * cut
    weak = _weak(ctx)
    confidence = 0.55 + min(0.2, 0.05 * (len(deaths) - 2)) + (0.1 if confirmed else 0.0) + (0.05 if steady else 0.0)
    confidence -= 0.25 if weak else 0.0
    heartbeat = ctx.rhythm.heartbeat_s
    if confirmed:
        timer = (
            f"no link lived through more than {seconds(survived)} of quiet, and each died after {seconds(cut)} "
            f"or more: something forgets idle connections after between the two"
        )
    else:
        timer = f"the links died after {seconds(cut)} to {seconds(max(quiets))} of quiet"
    evidence = [
        Evidence(
            at=None, what="idle timer", value=f"{timer}; the charger's heartbeat interval is {seconds(heartbeat)}"
        ),
        *(disconnect(s) for s in deaths[:5]),
    ]
    summary = (
        f"Something on the way forgets quiet connections: {len(deaths)} of {len(ended)} connections died after "
        f"{seconds(cut)} to {seconds(max(quiets))} without traffic"
        + (", sooner than the charger's next heartbeat." if cut < heartbeat else ".")
    )
    return finding(Cause.KEEPALIVE_TIMEOUT, confidence, summary, evidence)


def half_open(ctx: Context) -> Finding | None:
    """A link went silent once, our ping found it dead, and the charger came back only later (3 D)."""
    spans = list(ctx.spans)
    deaths = [
        (span, spans[k + 1] if k + 1 < len(spans) else None) for k, span in enumerate(spans) if died_silent(ctx, span)
    ]
    if not deaths:
        return None
    span, nxt = deaths[-1]
    assert span.end is not None
    moved = nxt is not None and None not in (nxt.remote, span.remote) and nxt.remote != span.remote
    gap = (nxt.start - span.end.at).total_seconds() if nxt is not None else None
    late = unnoticed(ctx, span, gap)
    confidence = 0.45 + (0.25 if moved else 0.0) + (0.1 if late else -0.1)  # back at once: it noticed
    confidence += 0.05 if not idle_explained(ctx, span) else 0.0  # it had lived through as long a quiet before
    confidence -= 0.25 if _weak(ctx) else 0.0
    confidence -= 0.15 * (len(deaths) - 1)  # again and again: rather an idle timer (or the radio)
    evidence = [disconnect(span, extra=f"it had been up for {seconds((span.last_life - span.start).total_seconds())}")]
    if nxt is not None and gap is not None:
        where = f" from a new address {nxt.remote} (was {span.remote})" if moved else ""
        evidence.append(Evidence(at=nxt.start, what="reconnected", value=f"after {seconds(gap)}{where}"))
    summary = "A working connection went dead without being closed" + (
        f" and the charger came back from a new address ({nxt.remote})." if moved and nxt else "."
    )
    return finding(Cause.HALF_OPEN, confidence, summary, evidence)


def unnoticed(ctx: Context, span: Span, gap: float | None) -> bool:
    """The charger did not notice the link was dead: it came back long after our ping timeout (much later than
    it usually reconnects), or its own TCP gave up only after several heartbeat intervals of silence."""
    assert span.end is not None
    if span.end.closed_by is not ClosedBy.PING_TIMEOUT:
        return span.silence_s >= th.OFFLINE_HEARTBEATS * ctx.rhythm.heartbeat_s
    if gap is None:
        return False
    others = [g for g in ctx.rhythm.reconnects if g != gap]
    usual = statistics.median(others) if others else 0.0
    return gap > max(ctx.rhythm.ping_timeout_s, th.RECONNECT_FACTOR * usual)


def _weak(ctx: Context) -> bool:
    values = [s.rssi_dbm for s in ctx.signals.radio]
    return bool(values) and statistics.median(values) < th.CRITICAL_DBM
