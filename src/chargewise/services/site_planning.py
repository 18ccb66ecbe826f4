"""The joint plan in the reconcile loop: which sessions are planned, when to re-plan, and the targets it gives.

:func:`planned` is called by :class:`~chargewise.services.smart_charging.SmartCharging` every cycle with the
site's live state. Sessions in mode ``plan`` with an energy and a departure are planned together
(:mod:`chargewise.charging.site_plan`, :func:`chargewise.charging.plan.plan`); the plan is made again when
its inputs change (a session arrives or leaves, its needs, phases or external cap change, the tariff or a
demand-response cap changes) and at every slot boundary, and each planned session's ``target_a`` is the
plan's current slot. A ``plan`` session without needs has no target: it charges as ``now`` does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chargewise.charging import tariff as tariffs
from chargewise.charging.plan import Plan, PlanRequest, Slots, explain, plan
from chargewise.charging.site import DemandCapLike, Mode, Site
from chargewise.charging.site_plan import PlanNeed, request_for, slot_start, targets
from chargewise.charging.sitefile import SiteFile
from chargewise.charging.state import Allocation, EvseState, SiteState

log = logging.getLogger(__name__)
#: the plan finishes this long before a departure (a limit reaches the car a cycle and a profile round trip
#: later, and rises at most ramp_a a cycle), unless the departure is that close already
GUARD = timedelta(minutes=5)
#: Not re-planned every cycle on purpose: the LP's many equally cheap answers would move the targets between
#: sessions each cycle, and the allocation holds an increase until the decreases making room are in force.


@dataclass(frozen=True, kw_only=True)
class LivePlan:
    """The plan in force: what it was asked, what it decided, why, and this slot's target of each session."""

    key: Hashable
    request: PlanRequest
    plan: Plan
    explanations: Mapping[str, list[str]]
    targets: Mapping[str, float]
    made_at: datetime
    trigger: str  # what made it: "first plan", "slot", "sessions or needs", "limits or prices"
    prices_note: str = ""  # why the prices are flat (no tariff, or a series that does not cover the horizon)


def mode_of(file: SiteFile, evse_id: str, state: EvseState) -> Mode:
    return state.mode or file.site.evses[evse_id].mode


def plan_needs(file: SiteFile, state: SiteState, now: datetime, previous: Allocation | None,
               caps_a: Mapping[str, float]) -> list[PlanNeed]:  # fmt: skip
    """The sessions to plan: online, in mode ``plan``, with energy and a departure still ahead."""
    out = []
    for evse_id, st in sorted(state.evses.items()):
        if not (st.online and st.session and mode_of(file, evse_id, st) is Mode.PLAN):
            continue
        if st.energy_kwh is None or st.departure is None or st.departure <= now:
            continue
        evse = file.site.evses[evse_id]
        last = previous.limits.get(evse_id) if previous is not None else None
        phases = last.phases if last is not None and last.phases > 0 else evse.phases
        if last is not None and last.guess is not None and last.guess.phases is not None:
            phases = min(phases, last.guess.phases)
        max_a = min(evse.max_a, caps_a.get(evse_id, evse.max_a))
        done_by = st.departure - GUARD if st.departure - GUARD > now + GUARD else st.departure
        out.append(PlanNeed(evse_id=evse_id, energy_kwh=st.energy_kwh, departure=done_by, phases=phases,
                            max_a=max_a))  # fmt: skip
    return out


def key_of(needs: Sequence[PlanNeed], told: Mapping[str, Hashable], now: datetime, file: SiteFile,
           caps: Sequence[DemandCapLike]) -> tuple[Hashable, ...]:  # fmt: skip
    """What the plan depends on besides the energy counting down (that is re-read at every slot): ``told`` is
    each session's needs as told (a new value: re-plan)."""
    sessions = tuple((n.evse_id, n.departure, n.phases, round(n.max_a, 1), told.get(n.evse_id)) for n in needs)
    limits = tuple(sorted((c.node, c.start, c.end, round(c.cap_kw, 3)) for c in caps))
    return (slot_start(now), sessions, limits, id(file.tariff))


def prices_for(file: SiteFile) -> tuple[list[str], Callable[[Slots], tuple[float, ...]]]:
    """A function from slots to prices per kWh (flat 0 without a tariff), and a list its notes go to."""
    notes: list[str] = []

    def prices(slots: Slots) -> tuple[float, ...]:
        if file.tariff is None:
            if file.tariff_feed is not None:
                notes.append(f"no prices from {file.tariff_feed.url} yet (see the server log): flat prices")
            else:
                notes.append("no tariff in the site file: every slot costs the same, earlier slots first")
            return (0.0,) * len(slots)
        spans = [(slots.begin(t), timedelta(minutes=slots.minutes[t])) for t in range(len(slots))]
        if getattr(file.tariff, "demand_charges", ()):
            notes.append("the tariff's demand charges are not weighed: the plan prices energy only (docs/tariffs.md)")
        try:
            return tuple(tariffs.prices(file.tariff, spans))
        except tariffs.TariffError as exc:
            notes.append(f"tariff: {exc}; planned at flat prices")
            return (0.0,) * len(slots)

    return notes, prices


async def planned(file: SiteFile, site: Site, state: SiteState, now: datetime, previous: Allocation | None, *,
                  caps: Sequence[DemandCapLike], caps_a: Mapping[str, float], told: Mapping[str, Hashable],
                  current: LivePlan | None) -> tuple[SiteState, LivePlan | None]:  # fmt: skip
    """The state with each planned session's ``target_a`` set, and the plan in force (None: nothing to plan).
    Re-plans only when :func:`key_of` changed; a plan that fails leaves the sessions without target (``now``)."""
    needs = plan_needs(file, state, now, previous, caps_a)
    if not needs:
        return state, None
    key = key_of(needs, told, now, file, caps)
    live = current
    if current is None or current.key != key:
        live = await _replan(file, site, needs, now, previous, caps, key, _trigger(current, key))
        if live is None:
            return state, current
    assert live is not None
    evses = dict(state.evses)
    for evse_id, amps in live.targets.items():
        if evse_id in evses:
            evses[evse_id] = dataclasses.replace(evses[evse_id], target_a=amps)
    return dataclasses.replace(state, evses=evses), live


def _trigger(current: LivePlan | None, key: tuple[Hashable, ...]) -> str:
    if current is None:
        return "first plan"
    old = current.key
    assert isinstance(old, tuple)
    if old[1:] == key[1:]:
        return "slot"
    return "sessions or needs" if old[1] != key[1] else "limits or prices"


async def _replan(file: SiteFile, site: Site, needs: list[PlanNeed], now: datetime, previous: Allocation | None,
                  caps: Sequence[DemandCapLike], key: Hashable, trigger: str) -> LivePlan | None:  # fmt: skip
    notes, prices = prices_for(file)
    try:
        request = request_for(site, file.policy, needs, now, previous, prices, caps)
        result = await asyncio.to_thread(plan, request)
        explanations = explain(request, result)
    except Exception:  # a plan that cannot be made never stops the cycle: the sessions charge as "now"
        log.exception("site %s: planning failed; its plan sessions charge as fast as the site allows", site.name)
        return None
    return LivePlan(key=key, request=request, plan=result, explanations=explanations, made_at=now, trigger=trigger,
                    targets=targets(site, result.first_step), prices_note="; ".join(notes))  # fmt: skip
