"""``MemoryFirmwareStore``: the ``FirmwareStore`` port in dicts, for unit tests. Nothing survives.

It behaves like ``chargewise.adapters.sql.firmware.SqlFirmwareStore`` (one contract suite runs against both);
the records are frozen, so handing out the stored objects is safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chargewise.firmware.artifacts import Artifact
from chargewise.firmware.campaign import Campaign, State, Target
from chargewise.firmware.store import DownloadRecord, FirmwareStore, Note


class MemoryFirmwareStore:
    """A fresh, empty store."""

    def __init__(self) -> None:
        self._artifacts: dict[str, Artifact] = {}
        self._campaigns: dict[str, Campaign] = {}
        self._targets: dict[tuple[str, str], Target] = {}
        self._history: list[Note] = []
        self._downloads: list[DownloadRecord] = []

    async def put_artifact(self, artifact: Artifact) -> None:
        self._artifacts[artifact.id] = artifact

    async def artifacts(self) -> list[Artifact]:
        return sorted(self._artifacts.values(), key=lambda a: (a.added_at, a.id))

    async def artifact(self, artifact_id: str) -> Artifact | None:
        return self._artifacts.get(artifact_id)

    async def remove_artifact(self, artifact_id: str) -> bool:
        return self._artifacts.pop(artifact_id, None) is not None

    async def put_campaign(self, campaign: Campaign, targets: Sequence[Target] = (),
                           notes: Sequence[Note] = ()) -> None:  # fmt: skip
        self._campaigns[campaign.id] = campaign
        await self.put_targets(targets, notes)

    async def put_targets(self, targets: Sequence[Target], notes: Sequence[Note] = ()) -> None:
        for t in targets:
            self._targets[t.campaign_id, t.charger_id] = t
        self._history.extend(notes)

    async def campaign(self, campaign_id: str) -> Campaign | None:
        return self._campaigns.get(campaign_id)

    async def campaigns(self, *, states: frozenset[State] | None = None) -> list[Campaign]:
        found = [c for c in self._campaigns.values() if states is None or c.state in states]
        return sorted(found, key=lambda c: (c.created_at, c.id))

    async def targets(self, campaign_id: str) -> list[Target]:
        found = [t for (cid, _), t in self._targets.items() if cid == campaign_id]
        return sorted(found, key=lambda t: (t.group, t.charger_id))

    async def history(self, campaign_id: str, *, limit: int = 1000) -> list[Note]:
        return [n for n in self._history if n.campaign_id == campaign_id][-limit:]

    async def record_download(self, record: DownloadRecord) -> None:
        self._downloads.append(record)

    async def downloads(self, artifact_id: str, *, limit: int = 1000) -> list[DownloadRecord]:
        return [d for d in self._downloads if d.artifact_id == artifact_id][-limit:]


if TYPE_CHECKING:  # mypy proves here that MemoryFirmwareStore implements the whole port
    _implements: type[FirmwareStore] = MemoryFirmwareStore
