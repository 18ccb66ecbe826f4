"""The rule on our own side: server pacing (connectivity.md 3 I 45-47). Our calls time out while the charger
is otherwise talking, or we send bursts of calls and the link dies right after them."""

from __future__ import annotations

from datetime import timedelta

from chargewise.doctor import thresholds as th
from chargewise.doctor.advice import finding
from chargewise.doctor.evidence import disconnect, seconds
from chargewise.doctor.findings import Cause, Evidence, Finding
from chargewise.doctor.history import Context, Span
from chargewise.doctor.signals import ClosedBy, CommandSample


def server_pacing(ctx: Context) -> Finding | None:
    """Our call timeouts on a live link, and bursts of our calls followed by a lost link."""
    commands = sorted(ctx.signals.commands, key=lambda c: c.at)
    timeouts = [c for c in commands if c.outcome == "timeout" and _alive_after(ctx, c)]
    window = th.BURST_PING_INTERVALS * ctx.rhythm.ping_interval_s or th.BURST_WINDOW_S
    bursts = _bursts(commands, window)
    after = th.BURST_LINK_LOSS_TIMEOUTS * (ctx.rhythm.ping_timeout_s or th.BURST_WINDOW_S)
    hurt = [(b, s) for b in bursts for s in _lost(ctx) if s.end and b[-1].at <= s.end.at <= b[-1].at + _td(after)]
    if len(timeouts) < th.PACING_MIN_TIMEOUTS and not hurt:
        return None
    confidence = 0.5 + min(0.2, 0.1 * len(hurt)) + min(0.15, 0.03 * max(0, len(timeouts) - th.PACING_MIN_TIMEOUTS))
    values = [r.rssi_dbm for r in ctx.signals.radio]
    if values and sorted(values)[len(values) // 2] < th.CRITICAL_DBM:
        confidence -= 0.25  # the radio explains the timeouts better
    evidence = [Evidence(at=c.at, what=f"our {c.action} timed out", value=_took(c)) for c in timeouts[:4]]
    for burst, span in hurt[:3]:
        evidence.append(
            Evidence(
                at=burst[0].at,
                what="burst of our calls",
                value=f"{len(burst)} calls in {seconds((burst[-1].at - burst[0].at).total_seconds())}",
            )
        )
        evidence.append(disconnect(span))
    parts = [f"{len(timeouts)} of our calls timed out while the charger was otherwise answering"] if timeouts else []
    parts += [f"{len(hurt)} bursts of our calls were followed by a lost connection"] if hurt else []
    return finding(
        Cause.SERVER_PACING, confidence, "The server overloads the charger: " + "; ".join(parts) + ".", evidence
    )


def _td(value: float) -> timedelta:
    return timedelta(seconds=value)


def _took(c: CommandSample) -> str:
    return f"no answer within {seconds(c.duration_s)}" if c.duration_s else "no answer"


def _alive_after(ctx: Context, c: CommandSample) -> bool:
    """The charger was heard on the same link after this call timed out (so the link itself was alive)."""
    done = c.at  # when it was sent or settled (recorders differ); heard after either means the link lived
    for span in ctx.spans:
        stop = span.end.at if span.end else ctx.now
        if span.start <= c.at <= stop:
            return any(t > done for t in span.life)
    return False


def _lost(ctx: Context) -> list[Span]:
    return [s for s in ctx.ended if s.end and s.end.closed_by in (ClosedBy.PING_TIMEOUT, ClosedBy.TRANSPORT)]


def _bursts(commands: list[CommandSample], window: float) -> list[list[CommandSample]]:
    """Runs of BURST_CALLS or more calls of ours within ``window`` seconds (non-overlapping)."""
    out: list[list[CommandSample]] = []
    i = 0
    while i < len(commands):
        j = i
        while j + 1 < len(commands) and (commands[j + 1].at - commands[i].at).total_seconds() <= window:
            j += 1
        if j - i + 1 >= th.BURST_CALLS:
            out.append(commands[i : j + 1])
            i = j + 1
        else:
            i += 1
    return out
