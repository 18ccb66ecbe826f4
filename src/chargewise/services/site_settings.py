"""Keeping what people set on the sites across restarts (``domain.site_settings``).

``SiteSettings`` is the keeper :class:`~chargewise.services.smart_charging.SmartCharging` writes through: a
site put or removed through REST, and per EVSE the needs told (REST, MQTT, the EV's NotifyEVChargingNeeds), the
live mode and a person's cap. The REST and MQTT handlers await the write before they answer; the loop also
writes whatever changed each cycle (needs from the EV, a session that ended and took its settings with it).
:meth:`SiteSettings.restore` puts everything back when the server starts, before the loops run.

Needs learned from a token's history are not kept: they are learned again at the next transaction start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chargewise.charging.site import Mode
from chargewise.charging.sitefile import SiteFile
from chargewise.domain.ports import Clock
from chargewise.domain.site_settings import EvseSetting, SiteDocument, SiteSettingStore
from chargewise.services.smart_charging import SessionNeeds, SiteLoop, SmartCharging

log = logging.getLogger(__name__)
KEPT_SOURCES = ("rest", "mqtt", "ev")


def setting_of(site: SiteLoop, evse_id: str) -> EvseSetting:
    """What of ``evse_id``'s live settings is worth keeping, now."""
    needs = site.needs.get(evse_id)
    told = needs if needs is not None and needs.source in KEPT_SOURCES else None
    mode = site.modes.get(evse_id)
    return EvseSetting(
        evse_id=evse_id,
        energy_kwh=told.energy_kwh if told else None,
        departure=told.departure if told else None,
        register_wh=told.register_wh if told else None,
        source=told.source if told else None,
        mode=mode.value if mode is not None else None,
        cap_a=site.max_a.get(evse_id),
        in_session=evse_id in site.in_session,
    )


class SiteSettings:
    """``load`` turns a stored site document into a site file (the REST route's own parsing: tariff files are
    read relative to the working folder)."""

    def __init__(self, store: SiteSettingStore, clock: Clock, load: Callable[[dict[str, Any]], SiteFile]) -> None:
        self.store, self.clock, self.load = store, clock, load
        self._kept: dict[str, EvseSetting] = {}

    async def evse(self, site: SiteLoop, evse_id: str) -> None:
        """Write ``evse_id``'s settings if they changed since last written."""
        setting = setting_of(site, evse_id)
        last = self._kept.get(evse_id)
        if last == setting or (last is None and setting.empty):
            return
        await self.store.put_evse_setting(setting)
        self._kept[evse_id] = setting

    async def site(self, name: str, document: dict[str, Any] | None) -> None:
        """Keep the site ``name`` put through REST (``document``), or its removal (None)."""
        await self.store.put_site_document(SiteDocument(name=name, document=document, at=self.clock.now()))

    async def restore(self, charging: SmartCharging) -> list[str]:
        """Put the kept sites and EVSE settings back into ``charging``; returns one line per thing that could not
        be (also logged), e.g. a kept site whose tariff file is gone."""
        problems: list[str] = []
        for kept in await self.store.site_documents():
            if kept.document is None:
                if kept.name in charging.sites:
                    charging.remove_site(kept.name)
                    log.info("site %s: removed through REST at %s, so not started from --site", kept.name, kept.at)
                continue
            try:
                replaced = kept.name in charging.sites
                charging.put_site(self.load(kept.document))
            except (ValueError, OSError) as exc:  # a SiteFileError, a charger now in another site, a file gone
                problems.append(f"site {kept.name} (put through REST at {kept.at}) not restored: {exc}")
                continue
            if replaced:
                log.info("site %s: the version put through REST at %s replaces the --site file's (PUT the file's "
                         "content to go back to it)", kept.name, kept.at)  # fmt: skip
        for setting in await self.store.evse_settings():
            try:
                site = charging.site_of_evse(setting.evse_id)
            except KeyError:
                continue  # its EVSE is in no site now: kept, for a site that may come back
            self._put_back(site, setting)
            self._kept[setting.evse_id] = setting
        for line in problems:
            log.warning("%s", line)
        return problems

    @staticmethod
    def _put_back(site: SiteLoop, setting: EvseSetting) -> None:
        evse_id = setting.evse_id
        if setting.source is not None:
            site.needs[evse_id] = SessionNeeds(energy_kwh=setting.energy_kwh, departure=setting.departure,
                                               register_wh=setting.register_wh, source=setting.source)  # fmt: skip
        if setting.mode is not None:
            try:
                site.modes[evse_id] = Mode(setting.mode)
            except ValueError:
                log.warning("%s: kept mode %r is unknown; the site file's default applies", evse_id, setting.mode)
        if setting.cap_a is not None:
            site.max_a[evse_id] = setting.cap_a
        if setting.in_session:
            site.in_session.add(evse_id)  # a session that ended while we were down takes them with it
