"""Build :class:`Signals` from a compact case description (``cases/rules/*.json``), times in seconds from T0.

A case::

    {"name": ..., "now": 3600, "expect": {"cause": "weak_signal", "min_confidence": 0.5},
     "signals": {...}}

``signals`` holds the Signals fields (times as seconds) plus generators that fill in what a live link
produces, so a case states only what matters:

- ``links``: ``[[t, "connected", {"remote": ...}], [t, "disconnected", {"closed_by": ..., "close_code": ...,
  "last_frame": t}], [t, "refused", {"detail": ...}], [t, "tls_failed", {...}]]``. ``last_frame`` marks when
  the charger went silent: nothing generated comes after it on that link.
- ``pings``: ``{"every": 60, "rtt": 0.02}``: our pings on every live stretch; a link ended by ``ping_timeout``
  gets its lost ping ``ping_timeout_s`` before the end. Extra ``"lost": [t, ...]`` are lost pings.
- ``heartbeats``: ``{"every": 300}`` on every live stretch (or a list of times).
- ``radio``: ``{"every": 300, "level": -76, "wiggle": [0, -1, 2], "bssid": "...", "steps": [[t, level, bssid]],
  "car_loss": 9}``: reports on live stretches; ``steps`` change the level from ``t``; ``car_loss`` is
  subtracted while a car is at the charger (from ``statuses``). Or a list ``[[t, rssi, bssid], ...]``.
- ``statuses``: ``[[t, connector, status, error_code?, info?]]`` (evse = connector); ``sessions``:
  ``[[plug, unplug], ...]`` adds Preparing/Charging at plug and Available at unplug on connector 1;
  ``transactions``: ``[[start, end], ...]`` become ``Signals.sessions`` (no statuses).
- ``boots``: ``[[t, reason]]``; ``security_events``: ``[[t, type, tech_info]]``; ``commands``:
  ``[[t, action, outcome, duration_s]]`` or ``{"burst": [t, n, spacing, action, outcome]}`` entries.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chargewise.doctor.signals import (
    BootSample,
    ClosedBy,
    CommandSample,
    LinkEvent,
    LinkEventKind,
    PingSample,
    RadioSample,
    SecurityEventSample,
    SessionSample,
    Signals,
    StatusSample,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CASES = Path(__file__).parent / "cases" / "rules"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def load_cases() -> list[dict[str, Any]]:
    """Every case of every file in ``cases/``, each tagged with its file."""
    out = []
    for path in sorted(CASES.glob("*.json")):
        for case in json.loads(path.read_text()):
            out.append({**case, "file": path.name})
    return out


def live_stretches(spec: dict[str, Any], now: float) -> list[tuple[float, float]]:
    """(from, to) of every stretch the charger was connected and heard (up to ``last_frame`` of a link)."""
    out, start = [], None
    for t, kind, *rest in spec.get("links", []):
        extra = rest[0] if rest else {}
        if kind == "connected":
            start = t
        elif kind == "disconnected" and start is not None:
            out.append((start, extra.get("last_frame", t)))
            start = None
    if start is not None:
        out.append((start, now))
    return out


def _every(stretches: list[tuple[float, float]], every: float, offset: float) -> list[float]:
    times: list[float] = []
    for a, b in stretches:
        t = a + offset
        while t < b:
            times.append(t)
            t += every
    return times


def _links(spec: dict[str, Any]) -> tuple[LinkEvent, ...]:
    out = []
    for t, kind, *rest in spec.get("links", []):
        extra = dict(rest[0]) if rest else {}
        last = extra.pop("last_frame", None)
        closed_by = extra.pop("closed_by", None)
        out.append(
            LinkEvent(
                at=at(t),
                kind=LinkEventKind(kind),
                closed_by=ClosedBy(closed_by) if closed_by else None,
                last_frame_at=at(last) if last is not None else None,
                **extra,
            )
        )
    return tuple(out)


def _pings(spec: dict[str, Any], stretches: list[tuple[float, float]]) -> tuple[PingSample, ...]:
    gen = spec.get("pings")
    if not gen:
        return ()
    out = [PingSample(at=at(t), rtt_s=gen.get("rtt", 0.02)) for t in _every(stretches, gen["every"], gen["every"] / 2)]
    timeout = spec.get("ping_timeout_s", 30)
    for t, kind, *rest in spec.get("links", []):
        if kind == "disconnected" and rest and rest[0].get("closed_by") == "ping_timeout":
            out.append(PingSample(at=at(t - timeout), rtt_s=None))
    out += [PingSample(at=at(t), rtt_s=None) for t in gen.get("lost", [])]
    return tuple(sorted(out, key=lambda p: p.at))


def _car(spec: dict[str, Any], now: float) -> list[tuple[float, float]]:
    return [(a, b) for a, b in [*spec.get("sessions", []), *spec.get("transactions", [])]]


def _radio(spec: dict[str, Any], stretches: list[tuple[float, float]], now: float) -> tuple[RadioSample, ...]:
    gen = spec.get("radio")
    if not gen:
        return ()
    if isinstance(gen, list):
        return tuple(RadioSample(at=at(r[0]), rssi_dbm=r[1], bssid=r[2] if len(r) > 2 else None) for r in gen)
    wiggle = gen.get("wiggle", [0])
    cars = _car(spec, now)
    out = []
    for k, t in enumerate(_every(stretches, gen["every"], gen.get("offset", 5))):
        level, bssid = gen["level"], gen.get("bssid")
        for s in gen.get("steps", []):
            if t >= s[0]:
                level, bssid = s[1], (s[2] if len(s) > 2 else bssid)
        loss = gen.get("car_loss", 0) if any(a <= t < b for a, b in cars) else 0
        out.append(RadioSample(at=at(t), rssi_dbm=level + wiggle[k % len(wiggle)] - loss, bssid=bssid))
    return tuple(out)


def _statuses(spec: dict[str, Any]) -> tuple[StatusSample, ...]:
    out = []
    for row in spec.get("statuses", []):
        t, connector, status, *rest = row
        out.append(StatusSample(at=at(t), evse_id=connector, connector_id=connector, status=status,
                                error_code=rest[0] if rest else None, info=rest[1] if len(rest) > 1 else None))  # fmt: skip
    for plug, unplug in spec.get("sessions", []):
        out.append(StatusSample(at=at(plug), evse_id=1, connector_id=1, status="Preparing"))
        out.append(StatusSample(at=at(plug + 1), evse_id=1, connector_id=1, status="Charging"))
        out.append(StatusSample(at=at(unplug), evse_id=1, connector_id=1, status="Available"))
    return tuple(sorted(out, key=lambda s: s.at))


def _commands(spec: dict[str, Any]) -> tuple[CommandSample, ...]:
    out = []
    for row in spec.get("commands", []):
        if isinstance(row, dict):
            t, n, spacing, action, outcome = row["burst"]
            out += [CommandSample(at=at(t + i * spacing), action=action, outcome=outcome) for i in range(n)]
        else:
            t, action, outcome, *rest = row
            out.append(CommandSample(at=at(t), action=action, outcome=outcome, duration_s=rest[0] if rest else None))
    return tuple(sorted(out, key=lambda c: c.at))


def build(case: dict[str, Any]) -> tuple[Signals, datetime]:
    """The case's Signals and its ``now``."""
    spec, now = case["signals"], case["now"]
    stretches = live_stretches(spec, now)
    beats = spec.get("heartbeats")
    heartbeats = (
        [at(t) for t in _every(stretches, beats["every"], beats["every"])] if isinstance(beats, dict)
        else [at(t) for t in beats or []]
    )  # fmt: skip
    known = spec.get("known_since")
    signals = Signals(
        charger_id=case.get("charger_id", "CP-1"),
        since=at(spec.get("since", 0)),
        known_since=at(known) if known is not None else None,
        ever_connected=spec.get("ever_connected", bool(stretches)),
        heartbeat_interval_s=spec.get("heartbeat_interval_s", 300),
        ping_interval_s=spec.get("ping_interval_s", 60),
        ping_timeout_s=spec.get("ping_timeout_s", 30),
        connected_now=spec.get("connected_now", _open_at_end(spec)),
        links=_links(spec),
        pings=_pings(spec, stretches),
        radio=_radio(spec, stretches, now),
        statuses=_statuses(spec),
        boots=tuple(BootSample(at=at(t), reason=r) for t, r in spec.get("boots", [])),
        security_events=tuple(
            SecurityEventSample(at=at(t), type=k, tech_info=i) for t, k, i in spec.get("security_events", [])
        ),
        heartbeats=tuple(heartbeats),
        commands=_commands(spec),
        others_reconnected=spec.get("others_reconnected"),
        sessions=tuple(SessionSample(start=at(a), end=at(b)) for a, b in spec.get("transactions", [])),
    )
    return signals, at(now)


def _open_at_end(spec: dict[str, Any]) -> bool:
    kinds = [row[1] for row in spec.get("links", []) if row[1] in ("connected", "disconnected")]
    return bool(kinds) and kinds[-1] == "connected"
