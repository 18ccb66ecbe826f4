"""The site: a tree of limits from the grid connection down to each EVSE, and what is in force at a time.

Build one with :func:`build_site` (or from a site file: :func:`chargewise.charging.sitefile.load`), then ask
:func:`limits_at` for every node's effective limits at ``now`` (schedules and demand-response caps applied), which
is what :func:`chargewise.charging.allocate.allocate` keeps each node under.

Phases are numbered 0, 1, 2 for the site's L1, L2, L3. A charger's wiring maps its own L1/L2/L3 onto site phases:
``(1, 2, 0)`` is a rotated installation whose L1 lands on site L2 (common, to spread single-phase cars).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Protocol

PHASES = ("L1", "L2", "L3")
UNLIMITED = math.inf


class Mode(enum.StrEnum):
    """How a session wants to charge (issue 11 item 4); a default per charger, switchable per session."""

    NOW = "now"  # as fast as the site allows
    PLAN = "plan"  # the planner's target current for this cycle
    SOLAR = "solar"  # only the surplus the site meter reports (export)
    MIN_SOLAR = "min+solar"  # the minimum current, plus surplus


class SiteError(ValueError):
    """The site does not hold together; the message names the node or EVSE and the fix."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LimitChange:
    """From ``at`` on (an absolute time, or ``daily`` at a local time of day), the node's limits become these.
    ``None`` keeps the node's base limit for that quantity."""

    at: datetime | None = None
    daily: time | None = None
    limit_a: tuple[float, float, float] | None = None
    limit_kw: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Node:
    """A breaker or connection point: grid connection, main breaker, feeder, sub-panel, circuit, or a charger.
    ``limit_a`` is per site phase (``inf`` where none; 0 on a phase the node does not carry)."""

    id: str
    parent: str | None
    kind: str = "circuit"
    limit_a: tuple[float, float, float] = (UNLIMITED, UNLIMITED, UNLIMITED)
    limit_kw: float = UNLIMITED
    schedule: tuple[LimitChange, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Evse:
    """One EVSE (an OCPP evse / 1.6 connector) and its electrical facts.

    ``wiring[i]`` is the site phase the EVSE's own phase i lands on. ``phases`` is how many it can use (1 or 3);
    a single-phase car on it draws on the EVSE's L1 only (IEC 62196-2 type 2: single-phase vehicles use L1/N).
    ``min_a`` is the lowest current a car must be offered, 6 A in IEC 61851-1 (PWM duty 10 %, Annex A); below
    it the EVSE is switched off instead. ``voltage_v`` is phase-to-neutral.
    """

    id: str
    parent: str
    charger: str
    wiring: tuple[int, int, int] = (0, 1, 2)
    voltage_v: float = 230.0
    min_a: float = 6.0
    max_a: float = 32.0
    phases: int = 3
    phase_switching: bool = False
    priority: int = 0
    mode: Mode = Mode.NOW


@dataclass(frozen=True, kw_only=True, slots=True)
class Meter:
    """The site meter (house or building load at ``node``). ``includes_ev``: the reading contains the EVSEs
    below ``node`` (a meter at the grid connection) and their measured currents are subtracted; ``False``: it
    measures the other loads only (a meter on the house feeder)."""

    node: str
    includes_ev: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class Site:
    """Validated, with the ancestors of each node precomputed (``path[x]``: x's node and every node above it)."""

    name: str
    root: str
    nodes: Mapping[str, Node]
    evses: Mapping[str, Evse]
    meter: Meter | None = None
    timezone: tzinfo | None = None
    path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class DemandCapLike(Protocol):
    """A demand-response cap on a node (the charging-dr helper's ``DemandCap`` fits): in force start <= now < end."""

    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def node(self) -> str: ...
    @property
    def cap_kw(self) -> float: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """A node's limits in force: per site phase in amps, and power in watts (``inf`` when none)."""

    phase_a: tuple[float, float, float]
    power_w: float
    capped_by: str = ""  # "schedule" or "demand response" when that lowered the limit


def build_site(
    *,
    name: str,
    nodes: Iterable[Node],
    evses: Iterable[Evse],
    meter: Meter | None = None,
    timezone: tzinfo | None = None,
) -> Site:
    """Check the tree (one root, known parents, no cycles, EVSE wiring) and precompute the paths.
    Raises :class:`SiteError` naming the node and the fix."""
    by_id = {n.id: n for n in nodes}
    roots = [n.id for n in by_id.values() if n.parent is None]
    if len(roots) != 1:
        raise SiteError(f"the site needs exactly one root node (no parent), found {len(roots)}: {roots}")
    path: dict[str, tuple[str, ...]] = {}
    for node_id in by_id:
        path[node_id] = _ancestors(node_id, by_id)
    by_evse = {}
    for evse in evses:
        if evse.parent not in by_id:
            raise SiteError(f"evse {evse.id}: parent {evse.parent!r} is not a node (known: {sorted(by_id)})")
        if evse.id in by_id:
            raise SiteError(f"evse {evse.id}: the id is also a node id (rename one)")
        if sorted(evse.wiring) != [0, 1, 2]:
            raise SiteError(f"evse {evse.id}: wiring {evse.wiring} must use each site phase once")
        by_evse[evse.id] = evse
        path[evse.id] = path[evse.parent]
    if meter is not None and meter.node not in by_id:
        raise SiteError(f"meter: node {meter.node!r} is not a node (known: {sorted(by_id)})")
    return Site(name=name, root=roots[0], nodes=by_id, evses=by_evse, meter=meter, timezone=timezone, path=path)


def _ancestors(node_id: str, by_id: Mapping[str, Node]) -> tuple[str, ...]:
    chain = [node_id]
    parent = by_id[node_id].parent
    while parent is not None:
        if parent not in by_id:
            raise SiteError(f"node {chain[-1]}: parent {parent!r} is not a node (known: {sorted(by_id)})")
        if parent in chain:
            raise SiteError(f"node {node_id}: the tree has a cycle {' -> '.join([*chain, parent])} (break it)")
        chain.append(parent)
        parent = by_id[parent].parent
    return tuple(chain)


Caps = Iterable[DemandCapLike] | Callable[[datetime], Iterable[DemandCapLike]]


def limits_at(site: Site, now: datetime, caps: Caps = ()) -> dict[str, Limits]:
    """Every node's limits in force at ``now``: the last schedule change at or before ``now`` (daily changes
    in the site's time zone), lowered by any demand-response cap in force (start <= now < end). ``caps`` is a
    list of caps or a function from ``now`` to them; a cap on a node the site does not have is ignored."""
    out = {node.id: _scheduled(node, now, site.timezone) for node in site.nodes.values()}
    for cap in caps(now) if callable(caps) else caps:
        if cap.start <= now < cap.end and cap.node in out:
            current = out[cap.node]
            if cap.cap_kw * 1000.0 < current.power_w:
                out[cap.node] = Limits(
                    phase_a=current.phase_a, power_w=cap.cap_kw * 1000.0, capped_by="demand response"
                )
    return out


def _scheduled(node: Node, now: datetime, zone: tzinfo | None) -> Limits:
    phase_a, power_kw, by = node.limit_a, node.limit_kw, ""
    best: tuple[datetime, LimitChange] | None = None
    for change in node.schedule:
        start = _last_start(change, now, zone)
        if start is not None and start <= now and (best is None or start >= best[0]):
            best = (start, change)
    if best is not None:
        change = best[1]
        phase_a = change.limit_a if change.limit_a is not None else phase_a
        power_kw = change.limit_kw if change.limit_kw is not None else power_kw
        by = "schedule"
    return Limits(phase_a=phase_a, power_w=power_kw * 1000.0, capped_by=by)


def _last_start(change: LimitChange, now: datetime, zone: tzinfo | None) -> datetime | None:
    """When ``change`` last took effect at or before ``now`` (a daily one: today's or yesterday's time)."""
    if change.at is not None:
        return change.at
    if change.daily is None:
        return None
    local = now.astimezone(zone) if zone is not None else now
    start = local.replace(hour=change.daily.hour, minute=change.daily.minute, second=0, microsecond=0)
    if start > local:
        start -= timedelta(days=1)
    return start


def evses_under(site: Site, node_id: str) -> list[str]:
    """The EVSEs fed through ``node_id``, in id order."""
    return sorted(e for e in site.evses if node_id in site.path[e])


def children(site: Site, node_id: str) -> list[str]:
    """Direct child nodes and EVSEs of ``node_id`` (nodes first), for printing the tree."""
    nodes = sorted(n.id for n in site.nodes.values() if n.parent == node_id)
    return nodes + sorted(e.id for e in site.evses.values() if e.parent == node_id)
