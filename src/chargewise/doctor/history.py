"""What the rules read: the signals regrouped into connections (spans), signs of life, the charger's own
rhythm (heartbeat, ping, reconnect delay) and when a car stood at it. Pure: built once per diagnosis by
:func:`context`; every rule then reads the same :class:`Context`.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from chargewise.doctor import thresholds as th
from chargewise.doctor.signals import ClosedBy, LinkEvent, LinkEventKind, Signals


@dataclass(frozen=True, kw_only=True, slots=True)
class Span:
    """One connection: from ``start`` to ``end`` (None: still open), with the charger's signs of life on it."""

    start: datetime
    end: LinkEvent | None
    remote: str | None
    life: tuple[datetime, ...]  # frames and pongs from the charger, sorted (``start`` not included)

    @property
    def last_life(self) -> datetime:
        return self.life[-1] if self.life else self.start

    @property
    def silence_s(self) -> float:
        """Seconds between the last sign of life and the end (0 for an open span)."""
        return 0.0 if self.end is None else max(0.0, (self.end.at - self.last_life).total_seconds())

    def longest_quiet_s(self, until: datetime | None = None) -> float:
        """The longest stretch without a sign of life the link survived (up to ``until``, default its last life):
        what the server measured if it says, else estimated from the signs recorded here (an upper bound: the
        frames not recorded as signals, such as MeterValues, break up quiet stretches too)."""
        if until is None and self.end is not None and self.end.longest_quiet_s is not None:
            return self.end.longest_quiet_s
        stop = until or self.last_life
        times = [self.start, *(t for t in self.life if t <= stop)]
        return max((b - a).total_seconds() for a, b in itertools.pairwise(times)) if len(times) > 1 else 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Rhythm:
    """The charger's timers as observed (so time compression cancels out), falling back to what was configured."""

    heartbeat_s: float  # median gap between Heartbeats on one link; else the configured interval
    ping_interval_s: float  # ours; 0: we do not ping
    ping_timeout_s: float
    reconnect_s: float | None  # median delay from a disconnect to the next connect
    reconnects: tuple[float, ...]  # every such delay, oldest first
    grace_s: float  # how long it may stay away before "it is not coming back"
    dead_s: float  # quiet longer than this on a link: the link was dead (see ``thresholds.PING_SLACK``)


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    signals: Signals
    now: datetime
    spans: tuple[Span, ...]
    rhythm: Rhythm
    car: tuple[tuple[datetime, datetime], ...]  # intervals with a car at the charger (connector status)

    def car_at(self, at: datetime) -> bool:
        return any(a <= at < b for a, b in self.car)

    @property
    def ended(self) -> list[Span]:
        return [s for s in self.spans if s.end is not None]

    @property
    def offline_since(self) -> datetime | None:
        """When it was last seen going away (None: connected now); ``since`` when nothing was seen."""
        s = self.signals
        if s.connected_now:
            return None
        gone = [e.at for e in s.links if e.kind is LinkEventKind.DISCONNECTED]
        if self.spans and self.spans[-1].end is None:  # a connect with no disconnect yet, but not connected now
            return self.spans[-1].last_life
        return gone[-1] if gone else (s.known_since or s.since)

    @property
    def away_s(self) -> float:
        since = self.offline_since
        return 0.0 if since is None else max(0.0, (self.now - since).total_seconds())

    @property
    def missing(self) -> bool:
        """Never connected, or offline for longer than the grace period: it should have been back by now."""
        if self.never_connected:
            return True
        return self.offline_since is not None and self.away_s >= self.grace_s

    @property
    def grace_s(self) -> float:
        """The rhythm's grace; shorter after we closed a live link cleanly and other chargers came back (a
        restart): then one heartbeat interval or four of its usual reconnect delays."""
        ended = self.ended
        last = ended[-1] if ended else None
        if (
            last is not None
            and last is self.spans[-1]
            and last.end is not None
            and last.end.closed_by is ClosedBy.SERVER
            and last.silence_s < self.rhythm.dead_s
            and self.signals.others_reconnected
        ):
            return max(self.rhythm.heartbeat_s, th.RECONNECT_FACTOR * (self.rhythm.reconnect_s or 0.0))
        return self.rhythm.grace_s

    @property
    def never_connected(self) -> bool:
        return not self.signals.ever_connected and not self.signals.connected_now and not self.spans

    def attempts_after(self, at: datetime) -> list[LinkEvent]:
        """Connection attempts that reached us after ``at`` (connects, refusals, failed TLS handshakes)."""
        return [e for e in self.signals.links if e.at > at and e.kind is not LinkEventKind.DISCONNECTED]


def context(signals: Signals, now: datetime) -> Context:
    """Regroup ``signals`` for the rules, as of ``now``."""
    spans = _spans(signals)
    return Context(signals=signals, now=now, spans=spans, rhythm=_rhythm(signals, spans), car=_car(signals, now))


def life_signs(signals: Signals) -> list[datetime]:
    """Every moment the charger was heard: its frames, its pongs, answers to our calls."""
    times = [*signals.heartbeats, *(r.at for r in signals.radio), *(s.at for s in signals.statuses)]
    times += [b.at for b in signals.boots] + [e.at for e in signals.security_events]
    times += [p.at + timedelta(seconds=p.rtt_s) for p in signals.pings if p.rtt_s is not None]
    times += [c.at for c in signals.commands if c.outcome in _ANSWERED]  # ``at`` is within ``duration_s`` of the answer
    times += [e.last_frame_at for e in signals.links if e.last_frame_at is not None]
    return sorted(times)


_ANSWERED = frozenset({"ok", "call_error"})


def _spans(signals: Signals) -> tuple[Span, ...]:
    bounds: list[tuple[datetime, LinkEvent | None, str | None]] = []
    start: datetime | None = None
    remote: str | None = None
    for event in sorted(signals.links, key=lambda e: e.at):
        if event.kind is LinkEventKind.CONNECTED:
            if start is not None:  # a newer connection took over without a recorded end
                bounds.append((start, _replaced(event), remote))
            start, remote = event.at, event.remote
        elif event.kind is LinkEventKind.DISCONNECTED:
            bounds.append((start or signals.since, event, remote if start else event.remote))
            start = None
    if start is not None:
        bounds.append((start, None, remote))
    life = life_signs(signals)
    out = []
    for a, end, rem in bounds:
        stop = end.at if end is not None else datetime.max.replace(tzinfo=a.tzinfo)
        out.append(Span(start=a, end=end, remote=rem, life=tuple(t for t in life if a < t <= stop)))
    return tuple(out)


def _replaced(event: LinkEvent) -> LinkEvent:
    return LinkEvent(at=event.at, kind=LinkEventKind.DISCONNECTED, closed_by=ClosedBy.REPLACED)


def _rhythm(signals: Signals, spans: tuple[Span, ...]) -> Rhythm:
    gaps = []
    for span in spans:
        stop = span.end.at if span.end else None
        beats = [t for t in signals.heartbeats if t >= span.start and (stop is None or t <= stop)]
        gaps += [(b - a).total_seconds() for a, b in itertools.pairwise(beats)]
    heartbeat = statistics.median(gaps) if gaps else (signals.heartbeat_interval_s or th.DEFAULT_HEARTBEAT_S)
    reconnects = [
        (b.start - a.end.at).total_seconds()
        for a, b in itertools.pairwise(spans)
        if a.end is not None and a.end.closed_by is not ClosedBy.REPLACED
    ]
    reconnect = statistics.median(reconnects) if reconnects else None
    grace = max(th.OFFLINE_HEARTBEATS * heartbeat, th.RECONNECT_FACTOR * (reconnect or 0.0))
    ping = signals.ping_interval_s or 0.0
    dead = (1 + th.PING_SLACK) * ping if ping > 0 else th.SILENT_HEARTBEATS * heartbeat
    return Rhythm(
        heartbeat_s=heartbeat,
        ping_interval_s=signals.ping_interval_s or 0.0,
        ping_timeout_s=signals.ping_timeout_s or 0.0,
        reconnect_s=reconnect,
        reconnects=tuple(reconnects),
        grace_s=grace,
        dead_s=dead,
    )


def _car(signals: Signals, now: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """Intervals with a car at the charger: a connector (not the station, connector 0) in a status that means a
    car is plugged in, or a charging session (whose times survive a link that was down when the car came)."""
    state: dict[tuple[int, int], bool] = {}
    found: list[tuple[datetime, datetime]] = []
    began: datetime | None = None
    for sample in sorted(signals.statuses, key=lambda s: s.at):
        if sample.connector_id == 0 or sample.evse_id == 0:
            continue
        state[(sample.evse_id, sample.connector_id)] = sample.status in th.CAR_STATUSES
        present = any(state.values())
        if present and began is None:
            began = sample.at
        elif not present and began is not None:
            found.append((began, sample.at))
            began = None
    if began is not None:
        found.append((began, now))
    found += [(s.start, s.end or now) for s in signals.sessions]
    return _merged(found)


def _merged(intervals: list[tuple[datetime, datetime]]) -> tuple[tuple[datetime, datetime], ...]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)
