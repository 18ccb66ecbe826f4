"""The reconcile loop: for each site, every cycle (and at once when a charger of the site reports something),
read the live state, run the pure allocation, and hand each charger its targets through the profile applier.

Stateless in the sense that matters: every cycle rebuilds the site's state from the telemetry and the store;
the only memory kept is the previous allocation (for ramps and fair rotation) and what each charger accepted
(in the applier). After a server restart the first cycle starts from nothing and is as safe as any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from chargewise.charging.allocate import allocate
from chargewise.charging.external import ExternalCap, capped
from chargewise.charging.failsafe import failsafe_shares
from chargewise.charging.profiles import DEFAULT_LEASE, Step, Target
from chargewise.charging.site import DemandCapLike, Evse, Mode
from chargewise.charging.site_plan import steps_ahead
from chargewise.charging.sitefile import SiteFile
from chargewise.charging.state import Allocation, EvseState, MeterReading, SiteState
from chargewise.charging.tariff import Tariff
from chargewise.domain.model import ConnectorStatus, OcppVersion, Transaction
from chargewise.domain.ports import Clock, Store
from chargewise.domain.reports import ChargingLimit, EvChargingNeeds
from chargewise.services.connections import Registry
from chargewise.services.demand_response import DemandResponse
from chargewise.services.events import EventHub, Kind
from chargewise.services.external_limits import caps_now
from chargewise.services.learned_needs import learned_for
from chargewise.services.profile_applier import Applied, Failsafe, ProfileApplier
from chargewise.services.site_planning import LivePlan, planned
from chargewise.services.telemetry import PHASES, Telemetry
from chargewise.services.telemetry import EvseState as EvseTelemetry

log = logging.getLogger(__name__)
CYCLE_S = 5.0  # the longest a site waits between cycles
MIN_GAP_S = 1.0  # the shortest: events within a second share one cycle
#: a car is there (plugged in) in these states; Available, Faulted, Unavailable, Reserved: no session
_SESSION = {ConnectorStatus.PREPARING, ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV,
            ConnectorStatus.SUSPENDED_EVSE, ConnectorStatus.OCCUPIED}  # fmt: skip
FRESH_S = 120.0  # a charger's meter values older than this do not count as what it draws now
METER_STALE_S = 60.0  # a site-meter reading older than this is not used (the house load is unknown then)


def limits_kw(site: SiteLoop) -> dict[str, float | None]:
    """Each node's power limit in kW (for resolving a demand-response shed): its own, or its per-phase current
    limit at 230 V where it has none; None where it has neither."""
    limits: dict[str, float | None] = {}
    for node in site.file.site.nodes.values():
        if node.limit_kw != math.inf:
            limits[node.id] = node.limit_kw
        elif all(a != math.inf for a in node.limit_a):
            limits[node.id] = sum(node.limit_a) * 230.0 / 1000.0
        else:
            limits[node.id] = None
    return limits


def _remaining(needs: SessionNeeds | None, live: EvseTelemetry | None) -> tuple[float | None, datetime | None]:
    """The energy still wanted (what was asked less what the register counted since) and the departure."""
    if needs is None:
        return None, None
    energy = needs.energy_kwh
    if energy is not None and live is not None and live.energy_wh is not None and needs.register_wh is not None:
        energy = max(0.0, energy - (live.energy_wh - needs.register_wh) / 1000.0)
    return energy, needs.departure


def evse_number(evse: Evse) -> int:
    """The OCPP evse id (1.6 connector id) of a site EVSE named ``CHARGER/N``."""
    return int(evse.id.rsplit("/", 1)[1])


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionNeeds:
    """What a session wants: ``energy_kwh`` more by ``departure`` (from the driver through REST, or the EV
    through 2.0.1 NotifyEVChargingNeeds), counted from ``register_wh`` (the EVSE's energy register then)."""

    energy_kwh: float | None
    departure: datetime | None
    register_wh: float | None = None
    source: str = "rest"  # "rest" (the driver), "ev" (NotifyEVChargingNeeds), "learned" (the token's history)


class LimitSource(Protocol):
    """Where the external limits chargers reported are kept (``Reports``' store: ``central.reports.store``)."""

    async def charging_limits(self, charger_id: str) -> list[ChargingLimit]: ...


@dataclass(kw_only=True)
class SiteLoop:
    """One site's loop state: the file, the previous allocation, live overrides, what the last cycle did."""

    file: SiteFile
    previous: Allocation | None = None
    modes: dict[str, Mode] = field(default_factory=dict)  # EVSE id -> mode switched live, for its session
    needs: dict[str, SessionNeeds] = field(default_factory=dict)  # EVSE id -> its session's needs (or the next's)
    in_session: set[str] = field(default_factory=set)  # EVSEs whose session the last cycle saw
    applied: dict[str, Applied] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    failsafe: dict[str, float] = field(default_factory=dict)
    meter: MeterReading | None = None  # the site meter's last reading (REST or MQTT feed it)
    meter_at: datetime | None = None
    #: measured power (kW) of each node under a demand-response cap, per cycle, for its compliance record
    power: dict[str, deque[tuple[datetime, float]]] = field(default_factory=dict)
    caps_seen: dict[str, DemandCapLike] = field(default_factory=dict)  # event id -> cap, until measured
    plan: LivePlan | None = None  # the joint plan of its ``plan`` sessions, while there are any
    learned: dict[str, int] = field(default_factory=dict)  # EVSE id -> the transaction its needs were learned for
    external: dict[str, float] = field(default_factory=dict)  # EVSE id -> external cap (A) in force last cycle
    max_a: dict[str, float] = field(default_factory=dict)  # EVSE id -> a person's cap (MQTT, dashboard), kept

    @property
    def name(self) -> str:
        return self.file.site.name


class Keeper(Protocol):
    """Where live settings are kept across restarts (``services.site_settings.SiteSettings``)."""

    async def evse(self, site: SiteLoop, evse_id: str) -> None: ...

    async def site(self, name: str, document: dict[str, Any] | None) -> None: ...


class SmartCharging:
    """Build one in ``bootstrap`` with the sites from the configuration; :meth:`run` it as a background task."""

    def __init__(
        self, *, sites: list[SiteFile], telemetry: Telemetry, store: Store, registry: Registry,
        applier: ProfileApplier, clock: Clock, demand: DemandResponse | None = None,
        limits: LimitSource | None = None,
    ) -> None:  # fmt: skip
        self.sites = {f.site.name: SiteLoop(file=f, failsafe=failsafe_shares(f.site, margin_a=f.policy.margin_a))
                      for f in sites}  # fmt: skip
        self._by_charger: dict[str, SiteLoop] = {}
        self.telemetry, self.store, self.registry, self.applier = telemetry, store, registry, applier
        self.clock, self.demand, self.limits = clock, demand, limits
        self.events: EventHub | None = None  # told of changed EVSE limits (Kind.ALLOCATION); bootstrap sets it
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._running = False
        self._index()
        #: whether this node may act for a site now (a cluster: it holds the site's lease, services/leases.py)
        self.gate: Callable[[str], bool] = lambda name: True
        #: the version of a charger linked to another node of the cluster (None: not linked anywhere else)
        self.remote_version: Callable[[str], OcppVersion | None] = lambda charger: None
        #: keeps sites put through REST and the EVSEs' told needs, modes and caps across restarts (bootstrap sets
        #: it); None: they live in memory only
        self.keeper: Keeper | None = None
        telemetry.listen(self.poke)
        if demand is not None:
            demand.subscribe(lambda event: self._wake_all())

    def _index(self) -> None:
        self._by_charger = {e.charger: s for s in self.sites.values() for e in s.file.site.evses.values()}
        if self.demand is not None:
            self.demand.set_nodes({n: s.name for s in self.sites.values() for n in s.file.site.nodes})

    def check_site(self, file: SiteFile) -> None:
        """Raise ``ValueError`` naming the charger when ``file`` puts a charger another site already controls."""
        for evse in file.site.evses.values():
            other = self._by_charger.get(evse.charger)
            if other is not None and other.name != file.site.name:
                raise ValueError(f"chargers.{evse.charger}: already in site {other.name!r} (a charger is in one site)")

    def put_site(self, file: SiteFile) -> bool:
        """Add site ``file`` or replace the one of its name (its loop keeps its live modes, needs and what the
        chargers accepted; it starts its next cycle at once). True when it was new. ``ValueError`` as
        :meth:`check_site` says."""
        self.check_site(file)
        name = file.site.name
        old = self.sites.get(name)
        fresh = SiteLoop(file=file, failsafe=failsafe_shares(file.site, margin_a=file.policy.margin_a))
        if old is not None:
            keep = set(file.site.evses)
            fresh.previous = old.previous
            fresh.modes = {k: v for k, v in old.modes.items() if k in keep}
            fresh.needs = {k: v for k, v in old.needs.items() if k in keep}
            fresh.in_session = old.in_session & keep
            fresh.applied = {k: v for k, v in old.applied.items() if k in keep}
            fresh.learned = {k: v for k, v in old.learned.items() if k in keep}
            fresh.meter, fresh.meter_at = old.meter, old.meter_at
            fresh.power, fresh.caps_seen = old.power, old.caps_seen
            fresh.max_a = {k: v for k, v in old.max_a.items() if k in keep}
            fresh.wake = old.wake
        self.sites[name] = fresh
        self._index()
        fresh.wake.set()
        if self._running and name not in self._tasks:
            self._start(fresh.name)
        return old is None

    def set_tariff(self, name: str, tariff: Tariff, *, file: SiteFile | None = None) -> SiteFile:
        """Price site ``name``'s plans with ``tariff`` from its next cycle (a fetched price series); with
        ``file``, only while the site still has that file (a PUT in between wins). Returns the site's file."""
        site = self.sites[name]
        if file is not None and site.file is not file:
            return site.file
        site.file = replace(site.file, tariff=tariff)
        site.wake.set()
        return site.file

    def remove_site(self, name: str) -> None:
        """Stop site ``name``'s loop (its chargers keep their last profiles and failsafe); KeyError if unknown."""
        del self.sites[name]
        self._index()
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()

    async def keep(self, evse_id: str) -> None:
        """Write ``evse_id``'s live settings through the keeper (call after ``set_needs``, ``set_mode`` or
        ``set_cap``, before acknowledging)."""
        if self.keeper is not None:
            await self.keeper.evse(self.site_of_evse(evse_id), evse_id)

    async def keep_site(self, name: str, document: dict[str, Any] | None) -> None:
        """Keep site ``name`` as put through REST (``document``), or its removal (None)."""
        if self.keeper is not None:
            await self.keeper.site(name, document)

    def _wake_all(self) -> None:
        for site in self.sites.values():
            site.wake.set()

    def site_of_evse(self, evse_id: str) -> SiteLoop:
        """The site that has ``evse_id`` (``CHARGER/N``); KeyError if none."""
        for site in self.sites.values():
            if evse_id in site.file.site.evses:
                return site
        raise KeyError(evse_id)

    def controls(self, charger_id: str, evse_id: int) -> bool:
        """Whether smart charging sets this EVSE's limits (a site file names it)."""
        site = self._by_charger.get(charger_id)
        return site is not None and f"{charger_id}/{evse_id}" in site.file.site.evses

    def set_needs(self, evse_id: str, energy_kwh: float | None, departure: datetime | None, source: str) -> None:
        """The session on ``evse_id`` wants ``energy_kwh`` more by ``departure`` (the deadline policy ranks by
        its laxity); kept until the session ends. KeyError for an EVSE no site has."""
        site = self.site_of_evse(evse_id)
        evse = site.file.site.evses[evse_id]
        live = self.telemetry.evse(evse.charger, evse_number(evse))
        register = None if live is None else live.energy_wh
        site.needs[evse_id] = SessionNeeds(energy_kwh=energy_kwh, departure=departure, register_wh=register,
                                           source=source)  # fmt: skip
        site.wake.set()

    def take_ev_needs(self, needs: EvChargingNeeds) -> bool:
        """2.0.1 NotifyEVChargingNeeds: the EV's energy and departure, for an EVSE under control (True)."""
        if not self.controls(needs.charger_id, needs.evse_id):
            return False
        energy = None if needs.energy_wh is None else needs.energy_wh / 1000.0
        self.set_needs(f"{needs.charger_id}/{needs.evse_id}", energy, needs.departure_time, "ev")
        return True

    def set_meter(self, name: str, reading: MeterReading) -> None:
        """A new site-meter reading (house or building load) for site ``name``; KeyError for an unknown site."""
        site = self.sites[name]
        site.meter, site.meter_at = reading, self.clock.now()
        site.wake.set()

    # ------------------------------------------------------------------ events and overrides
    def poke(self, charger_id: str) -> None:
        """Something changed at ``charger_id``: its site runs a cycle soon (within :data:`MIN_GAP_S`)."""
        site = self._by_charger.get(charger_id)
        if site is not None:
            site.wake.set()
        if not self.telemetry.is_online(charger_id):
            self.applier.forget(charger_id)  # send everything again when it is back

    def set_mode(self, evse_id: str, mode: Mode) -> None:
        """Switch a session's mode live (until the session ends; then the site file's default is back);
        raises KeyError for an EVSE no site has."""
        site = self.site_of_evse(evse_id)
        site.modes[evse_id] = mode
        site.wake.set()

    def set_cap(self, evse_id: str, amps: float | None) -> None:
        """Hold ``evse_id`` to at most ``amps`` (its max current in the site loop; None lifts it) until changed;
        raises KeyError for an EVSE no site has."""
        site = self.site_of_evse(evse_id)
        if amps is None:
            site.max_a.pop(evse_id, None)
        else:
            site.max_a[evse_id] = amps
        site.wake.set()

    # ------------------------------------------------------------------ one cycle
    async def state(self, site: SiteLoop) -> tuple[SiteState, dict[str, Transaction]]:
        """The site's live state, and the running transaction of each EVSE that has one."""
        evses: dict[str, EvseState] = {}
        running: dict[str, Transaction] = {}
        for charger in {e.charger for e in site.file.site.evses.values()}:
            if self._version(charger) is not None:
                for active in await self.store.active_transactions(charger):
                    running[f"{charger}/{active.evse_id}"] = active
        for evse_id, evse in site.file.site.evses.items():
            live = self.telemetry.evse(evse.charger, evse_number(evse))
            online = self.telemetry.is_online(evse.charger) and self._version(evse.charger) is not None
            measured = None
            if live is not None and live.currents_a:
                measured = (live.currents_a.get(PHASES[0], 0.0), live.currents_a.get(PHASES[1], 0.0),
                            live.currents_a.get(PHASES[2], 0.0))  # fmt: skip
            session = evse_id in running or (live is not None and live.status in _SESSION)
            if session:
                site.in_session.add(evse_id)
            elif evse_id in site.in_session:  # the session ended: its needs and live mode go with it
                site.in_session.discard(evse_id)
                site.needs.pop(evse_id, None)
                site.modes.pop(evse_id, None)
                site.learned.pop(evse_id, None)
            tx = running.get(evse_id)
            if tx is not None and evse_id not in site.needs and site.learned.get(evse_id) != tx.id:
                await self._learn(site, evse_id, tx)
            energy, departure = _remaining(site.needs.get(evse_id), live)
            mode = site.modes.get(evse_id) or (site.file.tokens.get(tx.id_tag) if tx and tx.id_tag else None)
            evses[evse_id] = EvseState(online=online, session=session, measured_a=measured, energy_kwh=energy,
                                       departure=departure, mode=mode)  # fmt: skip
        if self.keeper is not None:  # what changed besides the people's own changes: the EV's needs, sessions' ends
            try:
                for evse_id in site.file.site.evses:
                    await self.keeper.evse(site, evse_id)
            except Exception as exc:  # the database: charging goes on, and what did not get written is tried again
                log.warning("site %s: live settings not kept this cycle (%s); tried again next cycle", site.name, exc)
        meter = site.meter
        if site.meter_at is None or (self.clock.now() - site.meter_at).total_seconds() > METER_STALE_S:
            meter = None
        return SiteState(evses=evses, meter=meter), running

    async def _learn(self, site: SiteLoop, evse_id: str, tx: Transaction) -> None:
        """Needs learned from the token's past sessions, for a session whose driver and EV told none."""
        site.learned[evse_id] = tx.id
        try:
            learned = await learned_for(self.store, tx, site.file.site.timezone)
        except Exception:
            log.exception("site %s: the history of %s's token could not be read", site.name, evse_id)
            return
        if learned is not None and (learned.energy_kwh is not None or learned.departure is not None):
            site.needs[evse_id] = SessionNeeds(energy_kwh=learned.energy_kwh, departure=learned.departure,
                                               register_wh=tx.meter_start_wh, source="learned")  # fmt: skip

    async def external_caps(self, site: SiteLoop) -> list[ExternalCap]:
        """The limits set outside chargewise that the site's chargers reported, in force now."""
        if self.limits is None:
            return []
        reported: list[ChargingLimit] = []
        for charger in sorted({e.charger for e in site.file.site.evses.values()}):
            reported += await self.limits.charging_limits(charger)
        return caps_now(reported, self.clock.now())

    async def caps(self, site: SiteLoop) -> list[DemandCapLike]:
        """The demand-response caps on the site's nodes (a shed resolved against each node's power limit, or
        its current limit at the site's voltage where it has no power limit)."""
        if self.demand is None:
            return []
        limits = limits_kw(site)
        return list(await self.demand.demand_caps(limits))

    async def cycle(self, name: str) -> Allocation:
        """Run one cycle of site ``name`` now: allocate and apply. Returns the allocation."""
        site = self.sites[name]
        now = self.clock.now()
        state, running = await self.state(site)
        caps = await self.caps(site)
        tree, site.external = capped(site.file.site, await self.external_caps(site))
        if site.max_a:  # a person's caps (MQTT, dashboard) lower the EVSEs' max current
            evses = {k: replace(e, max_a=min(e.max_a, site.max_a[k])) if k in site.max_a else e
                     for k, e in tree.evses.items()}  # fmt: skip
            tree = replace(tree, evses=evses)
        if site.external:
            state = SiteState(meter=state.meter, evses={
                k: dataclasses.replace(v, cap_a=site.external[k]) if k in site.external else v
                for k, v in state.evses.items()})  # fmt: skip
        state, site.plan = await planned(site.file, tree, state, now, site.previous, caps=caps,
                                         caps_a=site.external, told=site.needs, current=site.plan)  # fmt: skip
        allocation = allocate(tree, state, now, site.previous, site.file.policy, caps=caps)
        self._tell(site, allocation)
        site.previous = allocation
        await self._record_compliance(site, caps, now)
        by_charger: dict[str, list[tuple[Target, Failsafe]]] = {}
        for evse_id, limit in allocation.limits.items():
            evse = site.file.site.evses[evse_id]
            if not state.evses[evse_id].online:
                continue
            tx = running.get(evse_id)
            version = self._version(evse.charger) or OcppVersion.V16
            tx_id = None if tx is None else (str(tx.id) if version is OcppVersion.V16 else tx.remote_id)
            steps = self._steps(site, evse_id, math.floor(limit.limit_a * 10) / 10, max(1, limit.phases), now)
            target = Target(evse_id=evse_number(evse), voltage_v=evse.voltage_v, transaction_id=tx_id, steps=steps)
            safe = Failsafe(evse_id=evse_number(evse), limit_a=site.failsafe[evse_id], phases=evse.phases,
                            voltage_v=evse.voltage_v)  # fmt: skip
            by_charger.setdefault(evse.charger, []).append((target, safe))
        results = await asyncio.gather(*(self._apply(c, pairs, now) for c, pairs in by_charger.items()))
        for charger, done in zip(by_charger, results, strict=True):
            for applied in done:
                site.applied[f"{charger}/{applied.evse_id}"] = applied
        return allocation

    @staticmethod
    def _steps(site: SiteLoop, evse_id: str, limit_a: float, phases: int, now: datetime) -> tuple[Step, ...]:
        """This cycle's limit, then, for a planned session, where its plan lowers it within the lease (a
        multi-period profile: the charger drops at the planned moment with or without us)."""
        first = Step(start_s=0, limit_a=limit_a, phases=phases)
        live = site.plan
        if live is None or evse_id not in live.targets or evse_id not in live.plan.amps:
            return (first,)
        ahead = steps_ahead(site.file.site, evse_id, live.request, live.plan.amps[evse_id], now, limit_a,
                            DEFAULT_LEASE)  # fmt: skip
        return (first, *(Step(start_s=at, limit_a=amps, phases=phases) for at, amps in ahead))

    def _tell(self, site: SiteLoop, allocation: Allocation) -> None:
        """Publish the EVSE limits that changed since the last cycle (``Kind.ALLOCATION``), one event per charger."""
        if self.events is None:
            return
        before = site.previous.limits if site.previous is not None else {}
        changed: dict[str, dict[str, object]] = {}
        for evse_id, limit in allocation.limits.items():
            old = before.get(evse_id)
            if old is not None and (old.limit_a, old.phases, old.cause) == (limit.limit_a, limit.phases, limit.cause):
                continue
            evse = site.file.site.evses[evse_id]
            changed.setdefault(evse.charger, {})[evse_id] = {
                "evse": evse_number(evse), "limit_a": limit.limit_a, "phases": limit.phases, "limit_w": limit.limit_w,
                "cause": limit.cause.value, "mode": limit.mode.value, "reason": limit.reason,
            }  # fmt: skip
        for charger, limits in changed.items():
            self.events.publish(Kind.ALLOCATION, allocation.at, charger, {"site": site.name, "limits": limits})

    def node_kw(self, site: SiteLoop, node: str) -> float | None:
        """What the node draws now: the site meter where it sits on that node and counts the EVSEs, else the
        sum of the EVSEs' recent meter values below it (None when none is recent: unknown, not zero)."""
        meter = site.file.site.meter
        reading = site.meter
        if meter is not None and meter.node == node and meter.includes_ev and reading and reading.power_w is not None:
            return reading.power_w / 1000.0
        now = self.clock.now()
        total, known = 0.0, False
        for evse_id, evse in site.file.site.evses.items():
            if node not in site.file.site.path[evse_id]:
                continue
            live = self.telemetry.evse(evse.charger, evse_number(evse))
            if live is None or live.measured_at is None or (now - live.measured_at).total_seconds() > FRESH_S:
                continue
            if live.power_w is None and not live.currents_a:
                continue  # a reading of the energy register only (a transaction's start): nothing about power
            known = True
            if live.power_w is not None:
                total += live.power_w / 1000.0
            else:  # no power reading: the currents at the nominal voltage
                total += sum(live.currents_a.values()) * evse.voltage_v / 1000.0
        return total if known else None

    async def _record_compliance(self, site: SiteLoop, caps: list[DemandCapLike], now: datetime) -> None:
        """Sample each capped node's power while its event runs; once an event is over, have the demand-response
        service record its compliance (kW over the cap times minutes)."""
        for cap in caps:
            event_id = getattr(cap, "event_id", f"{cap.node}@{cap.start.isoformat()}")
            site.caps_seen.setdefault(event_id, cap)
            drawn = self.node_kw(site, cap.node)
            if drawn is not None and cap.start - timedelta(seconds=2 * CYCLE_S) <= now < cap.end:  # and just before
                site.power.setdefault(cap.node, deque(maxlen=20_000)).append((now, drawn))
        if self.demand is None:
            return
        for event_id, cap in list(site.caps_seen.items()):
            if now >= cap.end:
                samples = [x for x in site.power.get(cap.node, ()) if x[0] < cap.end]
                try:
                    await self.demand.compliance(event_id, samples, limits_kw(site).get(cap.node))
                except Exception:
                    log.exception("site %s: compliance of event %s not recorded", site.name, event_id)
                del site.caps_seen[event_id]

    async def _apply(self, charger: str, pairs: list[tuple[Target, Failsafe]], now: datetime) -> list[Applied]:
        version = self._version(charger)
        if version is None:
            return []
        try:
            return await self.applier.apply(charger, version, [t for t, _ in pairs], now,
                                            failsafes=[f for _, f in pairs])  # fmt: skip
        except Exception:  # one charger's failure never stops the site's cycle
            log.exception("%s: applying its limits failed", charger)
            return []

    def _version(self, charger: str) -> OcppVersion | None:
        """The OCPP version of the charger's live link, here or on another node; None: no live link."""
        link = self.registry.get(charger)
        return link.version if link is not None else self.remote_version(charger)

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        """Every site's loop (and those :meth:`put_site` adds), until cancelled."""
        self._running = True
        for name in self.sites:
            self._start(name)
        try:
            await asyncio.Event().wait()
        finally:
            self._running = False
            tasks = list(self._tasks.values())
            self._tasks.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, name: str) -> None:
        self._tasks[name] = asyncio.get_running_loop().create_task(self._loop(name))

    def _until_next(self, site: SiteLoop) -> float:
        """Seconds to wait for the next cycle: a cycle's length, or less when a demand-response event starts or
        ends sooner (its cap is then applied at once, not up to a cycle late)."""
        now = self.clock.now()
        edges = [t for cap in site.caps_seen.values() for t in (cap.start, cap.end) if t > now]
        wait = CYCLE_S
        if edges:
            wait = min(wait, (min(edges) - now).total_seconds() + 0.05)
        return max(0.0, wait)

    async def _loop(self, name: str) -> None:
        while name in self.sites:
            site = self.sites[name]  # replaced by put_site: the next cycle runs the new file
            site.wake.clear()
            try:
                if self.gate(site.name):  # in a cluster, only the node holding the site's lease acts for it
                    await self.cycle(site.name)
            except Exception:
                log.exception("site %s: cycle failed; next one in %.0f s", site.name, CYCLE_S)
            wait = self._until_next(site)  # measured before the gap: an edge within it is not missed
            await asyncio.sleep(min(MIN_GAP_S, wait))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(site.wake.wait(), max(0.0, wait - MIN_GAP_S))
