"""Current limits a person set on a charger that no site controls (Home Assistant over MQTT, later the
dashboard): held with a TxDefault profile through the profile applier, renewed before its lease runs out and
sent again after the charger reconnects. A charger under smart charging takes its limit as a cap in its site
loop instead (``SmartCharging.set_cap``), never from here: two writers of one profile would fight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from chargewise.charging.profiles import CONTROL_ID_BASE, Step, Target
from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Clock
from chargewise.services.connections import ChargerOffline, Registry
from chargewise.services.profile_applier import Applied, ProfileApplier

log = logging.getLogger(__name__)
RENEW_EVERY_S = 60.0  # how often held limits are checked (the applier sends only what changed or half expired)
PHASES = 3  # a limit in amps holds per phase; a single-phase charger uses the first


class ManualLimits:
    """Build one in ``bootstrap`` over its own :class:`ProfileApplier`; :meth:`run` it as a background task."""

    def __init__(self, *, applier: ProfileApplier, registry: Registry, clock: Clock) -> None:
        self.applier, self.registry, self.clock = applier, registry, clock
        self._limits: dict[tuple[str, int], float] = {}

    def limit(self, charger_id: str, evse: int) -> float | None:
        """The limit a person set on this EVSE (None: none)."""
        return self._limits.get((charger_id, evse))

    async def set(self, charger_id: str, evse: int, amps: float | None) -> Applied | None:
        """Hold ``evse`` to ``amps`` (None: lift the limit); returns what the charger did with it, None when it
        is offline (the limit is sent when it is back)."""
        if amps is None:
            self._limits.pop((charger_id, evse), None)
            await self._clear(charger_id, evse)
            return None
        self._limits[(charger_id, evse)] = amps
        return await self._apply(charger_id, evse, amps)

    def forget_link(self, charger_id: str) -> None:
        """The charger went offline: what it held is unknown; everything is sent again when it is back."""
        self.applier.forget(charger_id)

    async def _apply(self, charger_id: str, evse: int, amps: float) -> Applied | None:
        link = self.registry.get(charger_id)
        if link is None:
            return None
        target = Target(evse_id=evse, steps=(Step(start_s=0, limit_a=amps, phases=PHASES),))  # no tx: TxDefault
        done = await self.applier.apply(charger_id, link.version, [target], self.clock.now())
        return done[0] if done else None

    async def _clear(self, charger_id: str, evse: int) -> None:
        link = self.registry.get(charger_id)
        if link is None:
            return
        key = "id" if link.version is OcppVersion.V16 else "chargingProfileId"
        with contextlib.suppress(ChargerOffline):
            await self.registry.call(charger_id, "ClearChargingProfile", {key: CONTROL_ID_BASE + evse})
        self.applier.forget(charger_id)

    async def renew(self) -> None:
        """Send what a charger lost (a reconnect) or what nears the end of its lease."""
        for (charger_id, evse), amps in list(self._limits.items()):
            try:
                await self._apply(charger_id, evse, amps)
            except Exception:
                log.exception("%s: limit of EVSE %d not renewed", charger_id, evse)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            await self.renew()
