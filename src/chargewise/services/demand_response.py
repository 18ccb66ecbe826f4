"""The demand-response service: holds the events every source delivers, answers opt-in or opt-out, and hands
the planner and the allocation their caps.

Sources (REST, the OpenADR 2.0b VEN in ``adapters/openadr2.py``, the OpenADR 3 VEN in ``adapters/openadr3.py``)
call ``receive`` with the events one source event maps to and send the returned answer back; they call
``cancel`` when the source cancels. Operators call ``set_opt`` to override the policy for one event; listeners
added with ``subscribe`` hear every change (a VEN uses it to tell its VTN about an operator's opt-out).

Opt policy (``OptPolicy``): an event on a node no site knows is opted out with that reason; an event on a site
listed in ``opted_out_sites`` is opted out; every other event gets ``default`` (opt-in unless configured). An
operator's decision survives the source's later updates of the same event.

Storage is the ``DemandEventStore`` port; ``chargewise.adapters.memory_demand.MemoryDemandEvents`` keeps
events in memory (nothing survives a restart yet: a VTN re-sends active events when the VEN registers again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from chargewise.charging.demand import (
    Compliance,
    DemandCap,
    DemandError,
    DemandEvent,
    Opt,
    OptType,
    Sample,
    Slot,
    caps_at,
    caps_for_slots,
    check_event,
    compliance,
    demand_caps,
    slot_notes,
)

Listener = Callable[[DemandEvent], None]


class DemandEventStore(Protocol):
    """Where events live between cycles; keyed by ``DemandEvent.id``."""

    async def put(self, event: DemandEvent) -> None: ...

    async def get(self, event_id: str) -> DemandEvent | None: ...

    async def all(self) -> list[DemandEvent]: ...

    async def put_compliance(self, result: Compliance) -> None: ...

    async def get_compliance(self, event_id: str) -> Compliance | None: ...


@dataclass(frozen=True, kw_only=True)
class OptPolicy:
    """How events are answered when no operator decided: ``default`` unless the node's site opted out."""

    default: OptType = "optIn"
    opted_out_sites: frozenset[str] = frozenset()


def decide_opt(policy: OptPolicy, event: DemandEvent, site_of: Mapping[str, str]) -> Opt:
    """The policy's answer for ``event``; ``site_of`` maps each known node id to its site id."""
    site = site_of.get(event.node)
    if site is None:
        return Opt(kind="optOut", by="policy", reason=f"node {event.node!r} is not in any site")
    if site in policy.opted_out_sites:
        return Opt(kind="optOut", by="policy", reason=f"site {site!r} opted out of demand response")
    return Opt(kind=policy.default, by="policy", reason=f"site {site!r} default")


class DemandResponse:
    """Events and their answers. Give it the node -> site map (``set_nodes`` again after a site file reload)."""

    def __init__(self, store: DemandEventStore, site_of: Mapping[str, str], policy: OptPolicy | None = None) -> None:
        self._store = store
        self._site_of = dict(site_of)
        self._policy = policy or OptPolicy()
        self._listeners: list[Listener] = []

    def set_nodes(self, site_of: Mapping[str, str]) -> None:
        """Replace the node -> site map; events already answered keep their answer."""
        self._site_of = dict(site_of)

    def set_policy(self, policy: OptPolicy) -> None:
        """Use ``policy`` for events received from now on."""
        self._policy = policy

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every event stored or changed (after it is stored). Keep it quick and sync."""
        self._listeners.append(listener)

    async def receive(self, events: Sequence[DemandEvent]) -> Opt:
        """Store the events one source event maps to (its intervals) and return the one answer for all of them.

        Invalid events raise ``DemandError`` (answer the source optOut with its message). An event already held
        keeps an operator's decision; otherwise the policy decides.
        """
        if not events:
            raise DemandError("the source event has no intervals; nothing to answer")
        for one in events:
            check_event(one)
        answer = await self._answer(events)
        for one in events:
            await self._save(replace(one, opt=answer))
        await self._drop_stale(events)
        return answer

    async def _drop_stale(self, events: Sequence[DemandEvent]) -> None:
        # An update may have fewer intervals than before: the intervals it no longer has are cancelled.
        origins = {one.origin for one in events if one.origin}
        fresh = {one.id for one in events}
        for held in await self._store.all():
            if held.origin in origins and held.id not in fresh and held.status != "cancelled":
                await self._save(replace(held, status="cancelled"))

    async def _answer(self, events: Sequence[DemandEvent]) -> Opt:
        for one in events:
            held = await self._store.get(one.id)
            if held is not None and held.opt is not None and held.opt.by != "policy":
                return held.opt
        decisions = [decide_opt(self._policy, one, self._site_of) for one in events]
        return next((opt for opt in decisions if opt.kind == "optOut"), decisions[0])

    async def cancel(self, origin: str) -> list[DemandEvent]:
        """Mark every event of source event ``origin`` cancelled; returns them (empty if none was held)."""
        changed = [replace(one, status="cancelled") for one in await self._store.all() if one.origin == origin]
        for one in changed:
            await self._save(one)
        return changed

    async def set_opt(self, event_id: str, kind: OptType, by: str, reason: str = "") -> DemandEvent:
        """An operator's opt-in/out for one event and its siblings (same origin); listeners hear of it."""
        held = await self._store.get(event_id)
        if held is None:
            raise DemandError(f"event id {event_id!r}: no such event; list them with events()")
        opt = Opt(kind=kind, by=by, reason=reason)
        siblings = [one for one in await self._store.all() if held.origin and one.origin == held.origin]
        for one in siblings or [held]:
            await self._save(replace(one, opt=opt))
        return replace(held, opt=opt)

    async def events(self, node: str | None = None) -> list[DemandEvent]:
        """Every event held (or those on ``node``), by start time."""
        held = [one for one in await self._store.all() if node is None or one.node == node]
        return sorted(held, key=lambda one: (one.start, one.id))

    async def cap_at(self, node: str, t: datetime, limit_kw: float | None) -> float | None:
        """The lowest cap in force on ``node`` at ``t`` (see ``charging.demand.caps_at``)."""
        return caps_at(await self._store.all(), node, t, limit_kw)

    async def caps_for_slots(
        self, limits: Mapping[str, float | None], slots: Sequence[Slot], baselines: Mapping[str, float] | None = None
    ) -> dict[str, list[float | None]]:
        """Per node, the cap per planner slot (see ``charging.demand.caps_for_slots``)."""
        return caps_for_slots(await self._store.all(), limits, slots, baselines)

    async def demand_caps(
        self, limits: Mapping[str, float | None], baselines: Mapping[str, float] | None = None
    ) -> list[DemandCap]:
        """The caps of every binding event on a node of ``limits``: pass them to ``allocate`` / ``limits_at``."""
        return demand_caps(await self._store.all(), limits, baselines)

    async def slot_notes(
        self, limits: Mapping[str, float | None], slots: Sequence[Slot], baselines: Mapping[str, float] | None = None
    ) -> dict[str, dict[int, str]]:
        """Per node, slot index -> which event caps it (for the plan's limit notes and its explanations)."""
        return slot_notes(await self._store.all(), limits, slots, baselines)

    async def compliance(
        self,
        event_id: str,
        samples: Iterable[Sample],
        limit_kw: float | None = None,
        baseline_kw: float | None = None,
    ) -> Compliance:
        """Measure one held event against its node's power samples (see ``charging.demand.compliance``) and record
        the result (``recorded_compliance`` reads it back). Call it when the event has ended, or again later with
        more samples: the newest result replaces the last."""
        held = await self._store.get(event_id)
        if held is None:
            raise DemandError(f"event id {event_id!r}: no such event; list them with events()")
        result = compliance(held, list(samples), limit_kw, baseline_kw)
        await self._store.put_compliance(result)
        return result

    async def recorded_compliance(self, event_id: str) -> Compliance | None:
        """The last compliance recorded for ``event_id`` (None if never measured)."""
        return await self._store.get_compliance(event_id)

    async def _save(self, event: DemandEvent) -> None:
        await self._store.put(event)
        for listener in self._listeners:
            listener(event)
