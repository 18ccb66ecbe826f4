"""Demand response: one event model for every source, the caps it puts on site nodes, and compliance.

An event from REST, OpenADR 2.0b or OpenADR 3 becomes a ``DemandEvent``: a window ``[start, end)`` on one
site node (its id in the site file) with one signal: a ``Cap`` in kW, a ``Shed`` fraction (of the node's
limit or of its baseline) or a ``Price`` per kWh. Adapters map their protocol onto it; the service decides
the opt state; the planner and the allocation ask ``caps_at`` / ``caps_for_slots``; after the event,
``compliance`` measures what the site drew over the cap.

Rules (the whole state of an event is here):
1. Only an event in force constrains anything: opted in, not cancelled, and ``start <= t < end``.
2. Several events on one node at once: the lowest cap wins (a cap only ever makes a limit tighter).
3. A shed turns into a cap when asked, from the limit (or baseline) passed in: ``cap = basis * (1 - fraction)``.
4. A planner slot gets the lowest cap of every event in force at any moment of that slot, so a plan that keeps
   the slot's power under it has zero kW-minutes over the cap.
5. Status is the source's word for "cancelled"; otherwise it follows from the time: far, near (within the
   event's ``near_before`` of the start; OpenADR 2.0b "near" is its ramp-up/notification period), active,
   completed (OpenADR 2.0b, EiEvent eventStatus).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Source = Literal["rest", "openadr2", "openadr3"]
Status = Literal["far", "near", "active", "completed", "cancelled"]
OptType = Literal["optIn", "optOut"]
Slot = tuple[datetime, timedelta]  # (start, UTC and aware; duration), the planner's time step
Sample = tuple[datetime, float]  # (time, kW): the value holds until the next sample (step-wise)

SOURCES: tuple[Source, ...] = ("rest", "openadr2", "openadr3")
# OpenADR SIMPLE levels (2.0b profile 8.1 and 3.0 SIMPLE: 0 normal, 1 moderate, 2 high, 3 special) as the share of
# the node's limit to shed. The program defines what a level means; these are defaults the VENs' settings override.
SIMPLE_SHED: dict[int, float] = {1: 0.25, 2: 0.5, 3: 1.0}
STATUSES: tuple[Status, ...] = ("far", "near", "active", "completed", "cancelled")


class DemandError(ValueError):
    """An event that cannot be used, in one line naming the field and the fix (the sender's fault)."""


@dataclass(frozen=True, kw_only=True)
class Cap:
    """Keep the node's power at or under ``kw``."""

    kw: float


@dataclass(frozen=True, kw_only=True)
class Shed:
    """Shed ``fraction`` (0..1) of the node's limit (``basis="limit"``) or of its baseline draw."""

    fraction: float
    basis: Literal["limit", "baseline"] = "limit"


@dataclass(frozen=True, kw_only=True)
class Price:
    """A price for energy in the window; it caps nothing, the planner weighs it."""

    per_kwh: float
    currency: str = ""


Signal = Cap | Shed | Price


@dataclass(frozen=True, kw_only=True)
class Opt:
    """The answer given to the source, who decided it (``policy``, ``operator``...) and why."""

    kind: OptType
    by: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class DemandEvent:
    """One window of one signal on one node. ``origin`` is the source's event id (one source event with several
    intervals becomes several ``DemandEvent``s sharing it); ``opt`` is None until the service answered."""

    id: str
    source: Source
    start: datetime
    end: datetime
    node: str
    signal: Signal
    status: Status = "far"
    opt: Opt | None = None
    origin: str = ""
    modification: int = 0
    near_before: timedelta = timedelta(0)


@dataclass(frozen=True, kw_only=True)
class DemandCap:
    """A binding event resolved to a power cap on its node (a shed turned into kW): what the allocation needs."""

    event_id: str
    node: str
    start: datetime
    end: datetime
    cap_kw: float


@dataclass(frozen=True, kw_only=True)
class Compliance:
    """What the node drew over the cap during the event. ``minutes_to_comply`` counts from the start to the first
    moment at or under the cap (None: never). ``covered_minutes`` is how much of the window the samples cover;
    nothing is assumed where there are no samples."""

    event_id: str
    cap_kw: float | None
    kw_minutes_over: float
    max_excess_kw: float
    minutes_to_comply: float | None
    covered_minutes: float


def check_event(event: DemandEvent) -> DemandEvent:
    """Return ``event`` if it is usable; raise ``DemandError`` naming the field and the fix otherwise."""
    if not event.id:
        raise DemandError("id: empty; give every event an id")
    if not event.node:
        raise DemandError(f"event {event.id}: node: empty; name the site node the event targets")
    if event.source not in SOURCES:
        raise DemandError(f"event {event.id}: source: {event.source!r} is not one of {', '.join(SOURCES)}")
    if event.status not in STATUSES:
        raise DemandError(f"event {event.id}: status: {event.status!r} is not one of {', '.join(STATUSES)}")
    for name, moment in (("start", event.start), ("end", event.end)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise DemandError(f"event {event.id}: {name}: {moment.isoformat()} has no time zone; give it in UTC")
    if event.end <= event.start:
        raise DemandError(f"event {event.id}: end: {event.end.isoformat()} is not after start; fix the window")
    _check_signal(event.id, event.signal)
    return event


def _check_signal(event_id: str, signal: Signal) -> None:
    if isinstance(signal, Cap) and not (math.isfinite(signal.kw) and signal.kw >= 0):
        raise DemandError(f"event {event_id}: cap: {signal.kw} kW; give a finite power of 0 kW or more")
    if isinstance(signal, Shed):
        if not (math.isfinite(signal.fraction) and 0 <= signal.fraction <= 1):
            raise DemandError(f"event {event_id}: shed: {signal.fraction}; give a fraction between 0 and 1")
        if signal.basis not in ("limit", "baseline"):
            raise DemandError(f"event {event_id}: shed basis: {signal.basis!r}; use 'limit' or 'baseline'")
    if isinstance(signal, Price) and not math.isfinite(signal.per_kwh):
        raise DemandError(f"event {event_id}: price: {signal.per_kwh}; give a finite price per kWh")


def status_at(event: DemandEvent, t: datetime) -> Status:
    """The event's status at ``t`` (rule 5)."""
    if event.status == "cancelled":
        return "cancelled"
    if t >= event.end:
        return "completed"
    if t >= event.start:
        return "active"
    return "near" if t >= event.start - event.near_before else "far"


def binding(event: DemandEvent) -> bool:
    """True if the event may constrain anything: opted in and not cancelled (rule 1, without the window)."""
    return event.opt is not None and event.opt.kind == "optIn" and event.status != "cancelled"


def cap_kw(event: DemandEvent, limit_kw: float | None, baseline_kw: float | None = None) -> float | None:
    """The event's cap in kW on its node (rule 3); None for a price. A shed needs the basis it is a fraction of:
    pass the node's limit, and its baseline for a baseline shed, or get a ``DemandError`` saying which."""
    signal = event.signal
    if isinstance(signal, Cap):
        return signal.kw
    if isinstance(signal, Shed):
        basis = limit_kw if signal.basis == "limit" else baseline_kw
        if basis is None:
            raise DemandError(f"event {event.id}: shed of the {signal.basis} of node {event.node} needs that value")
        return basis * (1.0 - signal.fraction)
    return None


def caps_at(
    events: Iterable[DemandEvent],
    node: str,
    t: datetime,
    limit_kw: float | None,
    baseline_kw: float | None = None,
) -> float | None:
    """The lowest cap in kW that events in force put on ``node`` at ``t``, or None when nothing caps it."""
    caps = [
        cap
        for event in events
        if event.node == node and binding(event) and event.start <= t < event.end
        if (cap := cap_kw(event, limit_kw, baseline_kw)) is not None
    ]
    return min(caps, default=None)


def demand_caps(
    events: Iterable[DemandEvent],
    limits: Mapping[str, float | None],
    baselines: Mapping[str, float] | None = None,
) -> list[DemandCap]:
    """Every binding event on a node of ``limits`` (node id -> its power limit in kW; None if it has only current
    limits, then a shed of the limit cannot be resolved) as a ``DemandCap``, for ``site.limits_at`` and the
    allocation (they check the window and keep the lowest). Price events are left out."""
    baselines = baselines or {}
    caps: list[DemandCap] = []
    for event in events:
        if event.node in limits and binding(event):
            kw = cap_kw(event, limits[event.node], baselines.get(event.node))
            if kw is not None:
                caps.append(DemandCap(event_id=event.id, node=event.node, start=event.start, end=event.end, cap_kw=kw))
    return caps


def caps_for_slots(
    events: Iterable[DemandEvent],
    limits: Mapping[str, float | None],
    slots: Sequence[Slot],
    baselines: Mapping[str, float] | None = None,
) -> dict[str, list[float | None]]:
    """Per node of ``limits`` (node id -> its limit in kW, None if it has only current limits), the cap for each
    slot (rule 4); None where no event caps the slot. Feed the result to the planner as extra node limits."""
    return {
        node: [None if cap is None else cap.cap_kw for cap in row]
        for node, row in _slot_caps(events, limits, slots, baselines).items()
    }


def slot_notes(
    events: Iterable[DemandEvent],
    limits: Mapping[str, float | None],
    slots: Sequence[Slot],
    baselines: Mapping[str, float] | None = None,
) -> dict[str, dict[int, str]]:
    """Per node, slot index -> why its cap is lower (the event that sets it), for plan explanations."""
    return {
        node: {
            i: f"demand-response event {cap.event_id}: at most {cap.cap_kw:g} kW" for i, cap in enumerate(row) if cap
        }
        for node, row in _slot_caps(events, limits, slots, baselines).items()
    }


def _slot_caps(
    events: Iterable[DemandEvent],
    limits: Mapping[str, float | None],
    slots: Sequence[Slot],
    baselines: Mapping[str, float] | None,
) -> dict[str, list[DemandCap | None]]:
    caps = demand_caps(events, limits, baselines)
    result: dict[str, list[DemandCap | None]] = {}
    for node in limits:
        mine = [cap for cap in caps if cap.node == node]
        row: list[DemandCap | None] = []
        for start, duration in slots:
            overlapping = [cap for cap in mine if cap.start < start + duration and start < cap.end]
            row.append(min(overlapping, key=lambda cap: cap.cap_kw, default=None))
        result[node] = row
    return result


def prices_for_slots(events: Iterable[DemandEvent], node: str, slots: Sequence[Slot]) -> list[float | None]:
    """Per slot, the highest price that events in force on ``node`` set during it; None where none does. The
    planner uses it in place of the tariff's price for that slot."""
    mine = [event for event in events if event.node == node and binding(event) and isinstance(event.signal, Price)]
    row: list[float | None] = []
    for start, duration in slots:
        prices = [
            event.signal.per_kwh
            for event in mine
            if isinstance(event.signal, Price) and event.start < start + duration and start < event.end
        ]
        row.append(max(prices, default=None))
    return row


def compliance(
    event: DemandEvent,
    samples: Sequence[Sample],
    limit_kw: float | None = None,
    baseline_kw: float | None = None,
) -> Compliance:
    """Integrate the node's measured power over the event window, step-wise: each sample holds until the next one,
    the last until the end of the window. Samples before the start set the value at the start. A price event has
    no cap and so nothing over it."""
    cap = cap_kw(event, limit_kw, baseline_kw)
    ordered = sorted(samples, key=lambda sample: sample[0])
    over = excess_max = covered = 0.0
    to_comply: float | None = None
    for index, (at, kw) in enumerate(ordered):
        until = ordered[index + 1][0] if index + 1 < len(ordered) else event.end
        begin, finish = max(at, event.start), min(until, event.end)
        if finish <= begin:
            continue
        minutes = (finish - begin).total_seconds() / 60.0
        covered += minutes
        if cap is None:
            continue
        excess = max(0.0, kw - cap)
        over += excess * minutes
        excess_max = max(excess_max, excess)
        if to_comply is None and excess == 0.0:
            to_comply = (begin - event.start).total_seconds() / 60.0
    return Compliance(
        event_id=event.id,
        cap_kw=cap,
        kw_minutes_over=over,
        max_excess_kw=excess_max,
        minutes_to_comply=to_comply if cap is not None else None,
        covered_minutes=covered,
    )
