"""Rules on a charger that does not reach us: TLS refusals, refused handshakes, and absence (never connected,
or gone and not back). connectivity.md 3 C, E, F, G and 6.

From the server, a charger that never arrives leaves no trace; what little it leaves decides the cause:
failed TLS handshakes or an InvalidCsmsCertificate event (TLS), refused handshakes (URL or credentials), how
its last link ended (a clean close by us and no return: firmware; a drop without a close frame and no
return: it cannot rejoin the Wi-Fi). With no trace at all the finding lists every cause and the check that
tells them apart.
"""

from __future__ import annotations

import itertools
import re

from chargewise.doctor import thresholds as th
from chargewise.doctor.advice import AUDIT, PROBE, RF, finding
from chargewise.doctor.evidence import disconnect, rssi, seconds
from chargewise.doctor.findings import Cause, Evidence, Finding
from chargewise.doctor.history import Context, Span
from chargewise.doctor.rules import silence
from chargewise.doctor.signals import ClosedBy, LinkEventKind

TELLS_APART = (
    f"{PROBE} (run on the charger's network): a DNS answer of 0.0.0.0 or none means DNS or a sinkhole; a TLS "
    "error means the certificate or the charger's clock; a refused upgrade means the URL or the charger id",
    f"{AUDIT}: finds an SSID only on 5 GHz while the charger has 2.4 GHz, WPA3-only or WPA2/WPA3 transition mode, "
    "a MAC filter that leaves the charger out, and the server's name on a DNS blocklist",
    f"{RF}: whether the Wi-Fi reaches the charger's place at all",
    "this report once the charger tries again: refused handshakes from it mean a wrong charger id or password "
    "(a wrong host or path never reaches us at all)",
)

NEVER_EXPLANATION = (
    "Nothing from this charger has reached the server, so the problem lies between the charger and us. "
    "Possible causes: the charger cannot find the server's address (DNS: a Pi-hole or AdGuard blocklist, a DNS "
    "sinkhole, rebind protection, a hard-coded DNS server); it cannot join the Wi-Fi (WPA3 or WPA2/WPA3 "
    "transition mode, an SSID offered only on 5 GHz while its radio is 2.4 GHz, a MAC filter without its "
    "address, a wrong Wi-Fi password); the URL or credentials configured in it are wrong (a wrong host "
    "never reaches us; a wrong id or password would show up here as refused handshakes); or it rejects the "
    "server's certificate (TLS). DNS is the most common of these and cannot be seen from here: the probe "
    "tells them apart."
)


def tls(ctx: Context) -> Finding | None:
    """Failed TLS handshakes from its address, InvalidCsmsCertificate / TLS version events, clock jumps (3 F)."""
    failed = [e for e in ctx.signals.links if e.kind is LinkEventKind.TLS_FAILED]
    events = [e for e in ctx.signals.security_events if e.type in th.TLS_EVENTS]
    clock = [e for e in ctx.signals.security_events if e.type in th.CLOCK_EVENTS]
    if not failed and not events:
        return None
    confidence = 0.85 if events else 0.6 + 0.05 * min(3, len(failed) - 1)
    confidence += 0.05 if clock else 0.0
    evidence = [Evidence(at=e.at, what=e.type, value=e.tech_info or "") for e in events[:3]]
    evidence += [Evidence(at=e.at, what="TLS handshake failed", value=e.detail or "") for e in failed[:3]]
    evidence += [Evidence(at=e.at, what="clock set", value=e.tech_info or "") for e in clock[:2]]
    text = " ".join([*(e.tech_info or "" for e in events), *(e.detail for e in failed)]).lower()
    if "expired" in text or "not yet valid" in text or clock:
        what = "the certificate has expired, or the charger's clock is wrong"
    elif "issuer" in text or "untrusted" in text or "self signed" in text or "self-signed" in text:
        what = "the certificate chain is incomplete or signed by a root the charger does not trust"
    else:
        what = "it does not accept the server's certificate or TLS settings"
    latest = max([e.at for e in failed] + [e.at for e in events])
    connected = ctx.signals.connected_now and ctx.spans and ctx.spans[-1].start > latest
    summary = f"The charger rejects the server's TLS: {what}" + (" (it has connected since)." if connected else ".")
    return finding(Cause.TLS, confidence, summary, evidence)


def join_failures(ctx: Context) -> Finding | None:
    """Wi-Fi handshake or PMF failures the charger reported while it still gets through at times (3 C, 4.4)."""
    words = _join_failure_words(ctx)
    if not words or ctx.missing:
        return None  # a missing charger's words go to ``absence``
    drops = [
        s for s in ctx.ended if s.end is not None and s.end.closed_by in (ClosedBy.TRANSPORT, ClosedBy.PING_TIMEOUT)
    ]
    confidence = (0.55 if drops else 0.4) + 0.05 * min(2, len(words) - 1)
    summary = f"The charger reports Wi-Fi handshake failures ({len(words)})" + (
        f" and dropped off {len(drops)} times." if drops else "."
    )
    return finding(
        Cause.WPA3_TRANSITION,
        confidence,
        summary,
        [*words, *(disconnect(s) for s in drops[:3])],
        tells_apart=TELLS_APART[1:2],
    )


def credentials(ctx: Context) -> Finding | None:
    """Refused handshakes: it reaches us, so DNS, Wi-Fi and TLS work; the URL, id or password does not."""
    refused = [e for e in ctx.signals.links if e.kind is LinkEventKind.REFUSED]
    if not refused:
        return None
    fixed = any(s.start > refused[-1].at for s in ctx.spans)
    confidence = 0.35 if fixed else 0.7 + (0.1 if len(refused) >= 3 else 0.0)
    evidence = [Evidence(at=e.at, what="handshake refused", value=e.detail or (e.remote or "")) for e in refused[-4:]]
    summary = f"The server refused {len(refused)} connection attempts of this charger" + (
        " (it connected properly later)." if fixed else ": its URL, id, password or OCPP version is wrong."
    )
    return finding(Cause.CREDENTIALS, confidence, summary, evidence)


def absence(ctx: Context) -> list[Finding]:
    """Findings for a charger that is away longer than it should be (``Context.missing``)."""
    if not ctx.missing:
        return []
    ended = [s for s in ctx.spans if s.end is not None]
    if ctx.never_connected:
        return never_connected(ctx)
    if not ended:
        return _silent_since(ctx)
    last = ended[-1]
    assert last.end is not None
    if ctx.attempts_after(last.end.at):
        return []  # refusals or TLS failures since: those rules speak
    away = seconds(ctx.away_s)
    by = last.end.closed_by
    silent = by is ClosedBy.PING_TIMEOUT or last.silence_s >= ctx.rhythm.dead_s  # it was dead before it ended
    if not silent and (by is ClosedBy.SERVER or (by is None and last.end.close_code in th.CLEAN_CODES)):
        return _no_reconnect(ctx, last, away)
    if by is ClosedBy.CHARGER:
        gone = disconnect(last, extra=f"nothing since, {away} ago")
        return [
            finding(
                Cause.FIRMWARE_NO_RECONNECT,
                0.45,
                f"The charger closed its connection {away} ago and never came back.",
                [gone],
                tells_apart=TELLS_APART,
            ),
            finding(Cause.DNS, 0.25, "If it did try to come back, it could not find the server.", [gone]),
        ]
    return _lost_and_gone(ctx, last, away, silent=silent)


def never_connected(ctx: Context) -> list[Finding]:
    known = ctx.signals.known_since
    when = f" since it was added {seconds((ctx.now - known).total_seconds())} ago" if known else ""
    evidence = [Evidence(at=known, what="added", value="no connection attempt has reached the server since")]
    noticed = bool(ctx.signals.links)  # refusals or TLS failures: those rules rank above this one
    young = known is not None and (ctx.now - known).total_seconds() < ctx.rhythm.grace_s  # may still be starting
    return [
        finding(
            Cause.DNS,
            0.2 if noticed else (0.35 if young else 0.45),
            f"The charger has never connected{when}.",
            evidence,
            explanation=NEVER_EXPLANATION,
            tells_apart=TELLS_APART,
        ),
        finding(
            Cause.WPA3_TRANSITION,
            0.15 if noticed else 0.3,
            "It may not be able to join the Wi-Fi (WPA3, a 5 GHz-only SSID, a MAC filter).",
            evidence,
            tells_apart=TELLS_APART[1:3],
        ),
    ]


def _silent_since(ctx: Context) -> list[Finding]:
    since = ctx.offline_since
    evidence = [Evidence(at=since, what="last heard", value="nothing from the charger since")]
    return [
        finding(
            Cause.DNS,
            0.4,
            f"Nothing heard from the charger for {seconds(ctx.away_s)}.",
            evidence,
            explanation=NEVER_EXPLANATION,
            tells_apart=TELLS_APART,
        ),
        finding(Cause.WPA3_TRANSITION, 0.3, "It may no longer be able to join the Wi-Fi.", evidence),
    ]


def _no_reconnect(ctx: Context, last: Span, away: str) -> list[Finding]:
    others = ctx.signals.others_reconnected
    confidence = 0.7 + (0.15 if others else 0.0) - (0.3 if others == 0 else 0.0)
    evidence = [disconnect(last, extra=f"no connection attempt since, {away} ago")]
    if others is not None:
        evidence.append(Evidence(at=None, what="other chargers", value=f"{others} reconnected after the same close"))
    summary = f"We closed the connection cleanly {away} ago and the charger never tried to come back."
    return [
        finding(Cause.FIRMWARE_NO_RECONNECT, confidence, summary, evidence),
        finding(
            Cause.DNS,
            0.2 if others else 0.35,
            "If it did try, it could not find the server (DNS).",
            evidence,
            tells_apart=TELLS_APART[:2],
        ),
    ]


def _lost_and_gone(ctx: Context, last: Span, away: str, *, silent: bool) -> list[Finding]:
    """Dropped without a close frame and never back: the radio cannot rejoin (3 C), unless it was weak. A link
    that had gone silent before it ended may also be half-open, the charger not knowing yet (3 D)."""
    assert last.end is not None
    radio = sorted((s for s in ctx.signals.radio if s.at <= last.end.at), key=lambda s: s.at)
    weak = bool(radio) and radio[-1].rssi_dbm < th.CRITICAL_DBM
    words = _join_failure_words(ctx)
    evidence = [disconnect(last, extra=f"no connection attempt since, {away} ago")]
    evidence += [rssi(radio[-1], "last RSSI")] if radio else []
    evidence += words
    if weak:
        return [
            finding(
                Cause.WEAK_SIGNAL,
                0.6,
                f"The charger fell off the Wi-Fi at {radio[-1].rssi_dbm:.0f} dBm {away} ago and has not come back.",
                evidence,
                tells_apart=TELLS_APART[1:3],
            ),
            finding(Cause.WPA3_TRANSITION, 0.3, "Or it can no longer join the Wi-Fi.", evidence),
        ]
    before = _came_back_late(ctx, last) if silent else 0  # it has done this before, and came back on its own
    confidence = (0.45 if silent else 0.6) + (0.25 if words else 0.0) + (0.05 if radio else 0.0)
    confidence -= 0.15 if before else 0.0
    how = "went silent" if silent else "broke off without a close frame"
    summary = f"The connection {how} {away} ago and the charger never tried again."
    out = [
        finding(Cause.WPA3_TRANSITION, confidence, summary, evidence, tells_apart=TELLS_APART[:3]),
        finding(Cause.DNS, 0.25, "If it did try, it could not find the server (DNS).", evidence),
    ]
    if silent:
        out.append(
            finding(
                Cause.HALF_OPEN,
                0.4 + (0.15 if before else 0.0),
                "Or the connection died on the way and the charger has not noticed yet: it may still believe it "
                "is connected" + (f" (it came back late after {before} earlier silent deaths)." if before else "."),
                evidence,
            )
        )
    return out


def _came_back_late(ctx: Context, last: Span) -> int:
    """Earlier links that died silent and after which the charger came back late, not having noticed (3 D)."""
    spans = list(ctx.spans)
    count = 0
    for a, b in itertools.pairwise(spans):
        if a is last or a.end is None or not silence.died_silent(ctx, a):
            continue
        count += silence.unnoticed(ctx, a, (b.start - a.end.at).total_seconds())
    return count


_JOIN_FAILURE = re.compile(r"\b(" + "|".join(re.escape(w) for w in th.JOIN_FAILURE_WORDS) + r")\b", re.IGNORECASE)


def _join_failure_words(ctx: Context) -> list[Evidence]:
    """Wi-Fi join failures the charger itself reported (ESP32 reasons 15 / 202 / 204, PMF, SAE: 4.4)."""
    out = []
    for e in ctx.signals.security_events:
        if _JOIN_FAILURE.search(e.tech_info or ""):
            out.append(Evidence(at=e.at, what=e.type, value=e.tech_info or ""))
    for s in ctx.signals.statuses:
        if _JOIN_FAILURE.search(s.info or ""):
            out.append(Evidence(at=s.at, what=f"status {s.error_code or s.status}", value=s.info or ""))
    return out[:3]
