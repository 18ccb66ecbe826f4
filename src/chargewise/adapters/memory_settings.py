"""``MemorySiteSettingStore``: the ``SiteSettingStore`` port in memory (tests, and the contract's reference)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chargewise.domain.site_settings import EvseSetting, SiteDocument, SiteSettingStore


class MemorySiteSettingStore:
    def __init__(self) -> None:
        self._sites: dict[str, SiteDocument] = {}
        self._evses: dict[str, EvseSetting] = {}

    async def put_site_document(self, site: SiteDocument) -> None:
        self._sites[site.name] = site

    async def site_documents(self) -> list[SiteDocument]:
        return [self._sites[k] for k in sorted(self._sites)]

    async def put_evse_setting(self, setting: EvseSetting) -> None:
        if setting.empty:
            self._evses.pop(setting.evse_id, None)
        else:
            self._evses[setting.evse_id] = setting

    async def evse_settings(self) -> list[EvseSetting]:
        return [self._evses[k] for k in sorted(self._evses)]


if TYPE_CHECKING:
    _implements: type[SiteSettingStore] = MemorySiteSettingStore
