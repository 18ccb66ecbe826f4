"""Rendering a diagnosis for people and programs: :func:`to_json` (the API's and ``--json``'s shape),
:func:`to_text` (what the CLI prints) and :func:`timeline` (the charger's history in readable lines). Pure:
no clock, no I/O; every timestamp is ISO 8601 UTC (``2026-03-01T08:00:00Z``).

The JSON::

    {"charger_id", "at", "cause",
     "findings": [{"cause", "confidence", "summary", "explanation", "fix",
                   "evidence": [{"at", "what", "value"}], "tells_apart": [...]}],
     "timeline": [{"at", "what", "detail"}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chargewise.doctor.evidence import seconds
from chargewise.doctor.findings import Diagnosis, Finding
from chargewise.doctor.signals import ClosedBy, LinkEventKind, Signals

RSSI_STEP_DB = 6.0  # a change this large (or a crossing of -75 dBm, connectivity.md 1.5) earns a line
CRITICAL_DBM = -75.0  # weak below this (connectivity.md 1.5 alarm rule) ...
RECOVERED_DBM = -72.0  # ... until back above this (3 dB hysteresis, as the WeakSignal status clears)


@dataclass(frozen=True, kw_only=True, slots=True)
class Moment:
    """One line of the timeline."""

    at: datetime
    what: str  # "connected", "disconnected", "Wi-Fi signal", "status", "boot", ...
    detail: str  # in words: "from 203.0.113.7 over TLSv1.3", "-43 -> -79 dBm (access point 02:..:0b)"


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (None stays None)."""
    if at is None:
        return None
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def timeline(signals: Signals) -> list[Moment]:
    """Connects, disconnects, refusals, boots, status changes, security events, lost pings, our timed-out calls
    and RSSI steps, oldest first."""
    lines = [*_links(signals), *_boots(signals), *_statuses(signals), *_radio(signals)]
    lines += [
        Moment(at=e.at, what="security event", detail=f"{e.type}" + (f": {e.tech_info}" if e.tech_info else ""))
        for e in signals.security_events
    ]
    lines += [
        Moment(at=p.at, what="ping lost", detail="our WebSocket ping got no answer")
        for p in signals.pings
        if p.rtt_s is None
    ]
    lines += [
        Moment(at=c.at, what="our call timed out", detail=c.action) for c in signals.commands if c.outcome == "timeout"
    ]
    return sorted(lines, key=lambda m: m.at)


def _links(signals: Signals) -> list[Moment]:
    out = []
    connected: datetime | None = None
    for e in sorted(signals.links, key=lambda e: e.at):
        if e.kind is LinkEventKind.CONNECTED:
            connected = e.at
            where = f" from {e.remote}" if e.remote else ""
            over = f" over {e.tls_version}" if e.tls_version else ""
            out.append(Moment(at=e.at, what="connected", detail=f"the charger connected{where}{over}"))
        elif e.kind is LinkEventKind.DISCONNECTED:
            lasted = f" after {seconds((e.at - connected).total_seconds())}" if connected else ""
            quiet = ""
            if e.last_frame_at is not None and (e.at - e.last_frame_at).total_seconds() >= 1:
                quiet = f"; silent for {seconds((e.at - e.last_frame_at).total_seconds())} before"
            out.append(
                Moment(
                    at=e.at,
                    what="disconnected",
                    detail=f"{_how(e.closed_by, e.close_code)}{lasted}{quiet}" + (f" ({e.detail})" if e.detail else ""),
                )
            )
            connected = None
        elif e.kind is LinkEventKind.REFUSED:
            out.append(Moment(at=e.at, what="refused", detail=f"we refused its handshake: {e.detail or 'no reason'}"))
        else:
            out.append(Moment(at=e.at, what="TLS failed", detail=f"a TLS handshake failed: {e.detail or 'no detail'}"))
    return out


_HOW = {
    ClosedBy.CHARGER: "the charger closed the connection",
    ClosedBy.SERVER: "we closed the connection",
    ClosedBy.PING_TIMEOUT: "the connection went dead (our ping got no answer)",
    ClosedBy.TRANSPORT: "the connection broke off without a goodbye",
    ClosedBy.REPLACED: "a newer connection of the charger took over",
}


def _how(by: ClosedBy | None, code: int | None) -> str:
    text = _HOW.get(by, "the connection ended") if by is not None else "the connection ended"
    return text + (f" (code {code})" if code is not None else "")


def _boots(signals: Signals) -> list[Moment]:
    return [
        Moment(
            at=b.at,
            what="boot",
            detail="the charger started"
            + (f" ({b.reason})" if b.reason else "")
            + (f", firmware {b.firmware}" if b.firmware else ""),
        )
        for b in signals.boots
    ]


def _statuses(signals: Signals) -> list[Moment]:
    """Only changes, per connector; connector 0 is the station itself."""
    last: dict[tuple[int, int], tuple[str, str | None]] = {}
    out = []
    for s in sorted(signals.statuses, key=lambda s: s.at):
        key, now = (s.evse_id, s.connector_id), (s.status, s.error_code)
        if last.get(key) == now:
            continue
        last[key] = now
        who = "the station" if s.connector_id == 0 or s.evse_id == 0 else f"connector {s.connector_id}"
        if s.error_code == "WeakSignal":
            detail = f"{who} reports a weak Wi-Fi signal" + (f" ({s.info})" if s.info else "")
        else:
            detail = f"{who}: {s.status}" + (f" ({s.error_code})" if s.error_code else "")
        out.append(Moment(at=s.at, what="status", detail=detail))
    return out


def _radio(signals: Signals) -> list[Moment]:
    """The first report, then steps of RSSI_STEP_DB or more, going weak / recovering, access point changes."""
    out = []
    level: float | None = None
    ap: str | None = None
    weak = False
    for r in sorted(signals.radio, key=lambda r: r.at):
        now_weak = r.rssi_dbm < CRITICAL_DBM or (weak and r.rssi_dbm < RECOVERED_DBM)
        moved = r.bssid is not None and ap is not None and r.bssid != ap
        if level is None:
            detail = f"{r.rssi_dbm:.0f} dBm" + _ap(r.bssid)
        elif abs(r.rssi_dbm - level) >= RSSI_STEP_DB or now_weak != weak or moved:
            detail = f"{level:.0f} -> {r.rssi_dbm:.0f} dBm" + (_ap(r.bssid) if moved else "")
        else:
            continue
        tag = " (weak)" if now_weak and not weak else (" (usable again)" if weak and not now_weak else "")
        out.append(Moment(at=r.at, what="Wi-Fi signal", detail=detail + tag))
        level, ap, weak = r.rssi_dbm, r.bssid or ap, now_weak
    return out


def _ap(bssid: str | None) -> str:
    return f" (access point {bssid})" if bssid else ""


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "cause": f.cause.value,
        "confidence": f.confidence,
        "summary": f.summary,
        "explanation": f.explanation,
        "fix": f.fix,
        "evidence": [{"at": iso(e.at), "what": e.what, "value": e.value} for e in f.evidence],
        "tells_apart": list(f.tells_apart),
    }


def to_json(diagnosis: Diagnosis, signals: Signals) -> dict[str, Any]:
    """The diagnosis and the charger's timeline as plain JSON-ready data (the shape in the module docstring)."""
    return {
        "charger_id": diagnosis.charger_id,
        "at": iso(diagnosis.at),
        "cause": diagnosis.cause.value,
        "findings": [finding_json(f) for f in diagnosis.findings],
        "timeline": [{"at": iso(m.at), "what": m.what, "detail": m.detail} for m in timeline(signals)],
    }


def to_text(diagnosis: Diagnosis, signals: Signals, *, timeline_lines: int = 40) -> str:
    """Plain text for a home owner: the most likely cause with its why, fix and evidence, the other
    possibilities, then the last ``timeline_lines`` lines of the timeline."""
    first, *others = diagnosis.findings
    out = [f"Charger {diagnosis.charger_id}, diagnosed at {iso(diagnosis.at)}", ""]
    out += [f"Most likely: {first.cause.value} ({first.confidence:.0%})", f"  {first.summary}", ""]
    out += [f"  Why: {first.explanation}", f"  Fix: {first.fix}"]
    if first.evidence:
        out += ["  Evidence:"] + [f"    {iso(e.at) or '-':20}  {e.what}: {e.value}" for e in first.evidence]
    if first.tells_apart:
        out += ["  What tells the causes apart:"] + [f"    - {t}" for t in first.tells_apart]
    if others:
        out += ["", "Other possibilities:"]
        out += [f"  {f.cause.value} ({f.confidence:.0%}): {f.summary}  Fix: {f.fix}" for f in others]
    moments = timeline(signals)
    out += [
        "",
        f"Timeline since {iso(signals.since)}"
        + (f" (last {timeline_lines} of {len(moments)})" if len(moments) > timeline_lines else "")
        + ":",
    ]
    out += [f"  {iso(m.at)}  {m.what}: {m.detail}" for m in moments[-timeline_lines:]] or ["  (nothing recorded)"]
    return "\n".join(out) + "\n"
