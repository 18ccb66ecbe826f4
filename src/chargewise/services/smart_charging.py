"""The reconcile loop: for each site, every cycle (and at once when a charger of the site reports something),
read the live state, run the pure allocation, and hand each charger its targets through the profile applier.

Stateless in the sense that matters: every cycle rebuilds the site's state from the telemetry and the store;
the only memory kept is the previous allocation (for ramps and fair rotation) and what each charger accepted
(in the applier). After a server restart the first cycle starts from nothing and is as safe as any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from chargewise.charging.allocate import allocate
from chargewise.charging.failsafe import failsafe_shares
from chargewise.charging.profiles import Step, Target
from chargewise.charging.site import DemandCapLike, Evse, Mode
from chargewise.charging.sitefile import SiteFile
from chargewise.charging.state import Allocation, EvseState, SiteState
from chargewise.domain.model import ConnectorStatus, OcppVersion, Transaction
from chargewise.domain.ports import Clock, Store
from chargewise.services.connections import Registry
from chargewise.services.profile_applier import Applied, Failsafe, ProfileApplier
from chargewise.services.telemetry import PHASES, Telemetry

log = logging.getLogger(__name__)
CYCLE_S = 5.0  # the longest a site waits between cycles
MIN_GAP_S = 1.0  # the shortest: events within a second share one cycle
#: a car is there (plugged in) in these states; Available, Faulted, Unavailable, Reserved: no session
_SESSION = {ConnectorStatus.PREPARING, ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV,
            ConnectorStatus.SUSPENDED_EVSE, ConnectorStatus.OCCUPIED}  # fmt: skip
Caps = Callable[[datetime], Iterable[DemandCapLike]]


def evse_number(evse: Evse) -> int:
    """The OCPP evse id (1.6 connector id) of a site EVSE named ``CHARGER/N``."""
    return int(evse.id.rsplit("/", 1)[1])


@dataclass(kw_only=True)
class SiteLoop:
    """One site's loop state: the file, the previous allocation, live overrides, what the last cycle did."""

    file: SiteFile
    previous: Allocation | None = None
    modes: dict[str, Mode] = field(default_factory=dict)  # EVSE id -> mode switched live
    applied: dict[str, Applied] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    failsafe: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.file.site.name


class SmartCharging:
    """Build one in ``bootstrap`` with the sites from the configuration; :meth:`run` it as a background task."""

    def __init__(
        self, *, sites: list[SiteFile], telemetry: Telemetry, store: Store, registry: Registry,
        applier: ProfileApplier, clock: Clock, caps: Caps = lambda now: (),
    ) -> None:  # fmt: skip
        self.sites = {f.site.name: SiteLoop(file=f, failsafe=failsafe_shares(f.site, margin_a=f.policy.margin_a))
                      for f in sites}  # fmt: skip
        self._by_charger = {e.charger: s for s in self.sites.values() for e in s.file.site.evses.values()}
        self.telemetry, self.store, self.registry, self.applier = telemetry, store, registry, applier
        self.clock, self.caps = clock, caps
        telemetry.listen(self.poke)

    # ------------------------------------------------------------------ events and overrides
    def poke(self, charger_id: str) -> None:
        """Something changed at ``charger_id``: its site runs a cycle soon (within :data:`MIN_GAP_S`)."""
        site = self._by_charger.get(charger_id)
        if site is not None:
            site.wake.set()
        if not self.telemetry.is_online(charger_id):
            self.applier.forget(charger_id)  # send everything again when it is back

    def set_mode(self, evse_id: str, mode: Mode) -> None:
        """Switch a session's mode live; raises KeyError for an EVSE no site has."""
        for site in self.sites.values():
            if evse_id in site.file.site.evses:
                site.modes[evse_id] = mode
                site.wake.set()
                return
        raise KeyError(evse_id)

    # ------------------------------------------------------------------ one cycle
    async def state(self, site: SiteLoop) -> tuple[SiteState, dict[str, Transaction]]:
        """The site's live state, and the running transaction of each EVSE that has one."""
        evses: dict[str, EvseState] = {}
        running: dict[str, Transaction] = {}
        for charger in {e.charger for e in site.file.site.evses.values()}:
            if charger in self.registry:
                for tx in await self.store.active_transactions(charger):
                    running[f"{charger}/{tx.evse_id}"] = tx
        for evse_id, evse in site.file.site.evses.items():
            live = self.telemetry.evse(evse.charger, evse_number(evse))
            online = self.telemetry.is_online(evse.charger) and evse.charger in self.registry
            measured = None
            if live is not None and live.currents_a:
                measured = (live.currents_a.get(PHASES[0], 0.0), live.currents_a.get(PHASES[1], 0.0),
                            live.currents_a.get(PHASES[2], 0.0))  # fmt: skip
            session = evse_id in running or (live is not None and live.status in _SESSION)
            evses[evse_id] = EvseState(online=online, session=session, measured_a=measured,
                                       mode=site.modes.get(evse_id))  # fmt: skip
        return SiteState(evses=evses), running

    async def cycle(self, name: str) -> Allocation:
        """Run one cycle of site ``name`` now: allocate and apply. Returns the allocation."""
        site = self.sites[name]
        now = self.clock.now()
        state, running = await self.state(site)
        allocation = allocate(site.file.site, state, now, site.previous, site.file.policy, caps=self.caps(now))
        site.previous = allocation
        by_charger: dict[str, list[tuple[Target, Failsafe]]] = {}
        for evse_id, limit in allocation.limits.items():
            evse = site.file.site.evses[evse_id]
            if not state.evses[evse_id].online:
                continue
            tx = running.get(evse_id)
            link = self.registry.get(evse.charger)
            version = link.version if link is not None else OcppVersion.V16
            tx_id = None if tx is None else (str(tx.id) if version is OcppVersion.V16 else tx.remote_id)
            step = Step(start_s=0, limit_a=math.floor(limit.limit_a * 10) / 10, phases=max(1, limit.phases))
            target = Target(evse_id=evse_number(evse), voltage_v=evse.voltage_v, transaction_id=tx_id, steps=(step,))
            safe = Failsafe(evse_id=evse_number(evse), limit_a=site.failsafe[evse_id], phases=evse.phases,
                            voltage_v=evse.voltage_v)  # fmt: skip
            by_charger.setdefault(evse.charger, []).append((target, safe))
        results = await asyncio.gather(*(self._apply(c, pairs, now) for c, pairs in by_charger.items()))
        for charger, done in zip(by_charger, results, strict=True):
            for applied in done:
                site.applied[f"{charger}/{applied.evse_id}"] = applied
        return allocation

    async def _apply(self, charger: str, pairs: list[tuple[Target, Failsafe]], now: datetime) -> list[Applied]:
        link = self.registry.get(charger)
        if link is None:
            return []
        try:
            return await self.applier.apply(charger, link.version, [t for t, _ in pairs], now,
                                            failsafes=[f for _, f in pairs])  # fmt: skip
        except Exception:  # one charger's failure never stops the site's cycle
            log.exception("%s: applying its limits failed", charger)
            return []

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        """Every site's loop, until cancelled."""
        await asyncio.gather(*(self._loop(site) for site in self.sites.values()))

    async def _loop(self, site: SiteLoop) -> None:
        while True:
            site.wake.clear()
            try:
                await self.cycle(site.name)
            except Exception:
                log.exception("site %s: cycle failed; next one in %.0f s", site.name, CYCLE_S)
            await asyncio.sleep(MIN_GAP_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(site.wake.wait(), CYCLE_S - MIN_GAP_S)
