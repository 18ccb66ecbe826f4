"""Diagnosis: signals in, findings out, most likely first. Call :func:`diagnose` with the recorded
:class:`~chargewise.doctor.signals.Signals` and the time ``now``; render the result with
:mod:`chargewise.doctor.explain`.

Rules:

1. One small pure function per cause (``radio``, ``silence``, ``reach``, ``pacing``), listed in ``RULES``; each
   returns its findings (or none) with a confidence, evidence and the fix. Numbers live in ``thresholds``.
2. A general cause yields to a specific one that explains the same observations: weak signal drops under
   the alarm level when a parked car or a sticky client explains it (``SPECIFIC``), since both also show as a
   weak signal; it stays listed, below them.
3. ``healthy`` is added when the charger is not missing: its confidence is what the problems leave over
   (1 - the strongest problem), so noise that raises only weak findings still ranks ``healthy`` first.
4. A charger that is missing (away longer than two heartbeats / four reconnect delays, or never connected)
   is never ``healthy``: a finding saying what can cause its absence is always there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from chargewise.doctor import thresholds as th
from chargewise.doctor.advice import finding
from chargewise.doctor.evidence import seconds
from chargewise.doctor.findings import Cause, Diagnosis, Evidence, Finding
from chargewise.doctor.history import Context, context
from chargewise.doctor.rules import pacing, radio, reach, silence
from chargewise.doctor.signals import Signals

Rule = Callable[[Context], Finding | list[Finding] | None]

RULES: tuple[Rule, ...] = (
    radio.weak_signal,
    radio.vehicle_obstruction,
    radio.sticky_client,
    silence.keepalive_timeout,
    silence.half_open,
    reach.tls,
    reach.join_failures,
    reach.credentials,
    reach.absence,
    pacing.server_pacing,
)

# rule 2: a general cause and the specific causes it must rank below
SPECIFIC: dict[Cause, tuple[Cause, ...]] = {
    Cause.WEAK_SIGNAL: (Cause.VEHICLE_OBSTRUCTION, Cause.STICKY_CLIENT),
}


def diagnose(signals: Signals, now: datetime) -> Diagnosis:
    """The findings for ``signals`` as of ``now``, most likely first; never empty (``healthy`` when fine)."""
    ctx = context(signals, now)
    found = _yield_to_specific(list(_run(ctx)))
    if not ctx.missing:
        found.append(_healthy(ctx, found))
    order = {cause: i for i, cause in enumerate([*[*Cause][1:], Cause.HEALTHY])}  # a tie goes to the problem
    found.sort(key=lambda f: (-f.confidence, order[f.cause]))
    return Diagnosis(charger_id=signals.charger_id, at=now, findings=tuple(_dedupe(found)))


def _run(ctx: Context) -> Iterable[Finding]:
    for rule in RULES:
        result = rule(ctx)
        if isinstance(result, Finding):
            yield result
        elif result:
            yield from result


def _yield_to_specific(found: list[Finding]) -> list[Finding]:
    best = {f.cause: f.confidence for f in found}
    out = []
    for f in found:
        better = [best[c] for c in SPECIFIC.get(f.cause, ()) if best.get(c, 0.0) >= th.ALARM]
        if better and f.confidence >= min(better):
            f = finding(
                f.cause,
                min(min(better) - 0.1, th.ALARM - 0.05),
                f.summary,
                f.evidence,
                explanation=f.explanation,
                tells_apart=f.tells_apart,
            )
        out.append(f)
    return out


def _dedupe(found: list[Finding]) -> list[Finding]:
    """One finding per cause: the most likely one (the list is sorted)."""
    seen: set[Cause] = set()
    out = []
    for f in found:
        if f.cause not in seen:
            seen.add(f.cause)
            out.append(f)
    return out


def _healthy(ctx: Context, found: list[Finding]) -> Finding:
    worst = max((f.confidence for f in found), default=0.0)
    s = ctx.signals
    links = len(ctx.spans)
    values = sorted(r.rssi_dbm for r in s.radio)
    rtts = sorted(p.rtt_s for p in s.pings if p.rtt_s is not None)
    evidence = [
        Evidence(
            at=None,
            what="connections",
            value=f"{links} in the window, "
            + ("connected now" if s.connected_now else f"away for {seconds(ctx.away_s)}, reconnecting"),
        )
    ]
    if values:
        evidence.append(Evidence(at=None, what="RSSI", value=f"median {values[len(values) // 2]:.0f} dBm"))
    if rtts:
        lost = sum(p.rtt_s is None for p in s.pings)
        evidence.append(
            Evidence(
                at=None,
                what="ping",
                value=f"median {rtts[len(rtts) // 2] * 1000:.0f} ms, {lost} of {len(s.pings)} lost",
            )
        )
    data = 0.9 if links else 0.6  # with no connection in the window there is little to judge by
    if not found:
        summary = "The connection looks healthy."
    elif worst < th.ALARM:
        summary = "Mostly healthy: the other findings are only weak hints."
    else:
        summary = "No problem, if the findings above are wrong."
    return finding(Cause.HEALTHY, min(data, 1.0 - worst), summary, evidence)
