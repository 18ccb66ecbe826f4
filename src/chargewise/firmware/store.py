"""The port campaigns, artifacts and download records are kept in: ``adapters/sql/firmware.py`` on the
database, ``adapters/memory_firmware.py`` in memory. Every write returns once it is durable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chargewise.firmware.artifacts import Artifact
from chargewise.firmware.campaign import Campaign, State, Target


@dataclass(frozen=True, kw_only=True, slots=True)
class Note:
    """One line of a campaign's history."""

    campaign_id: str
    at: datetime
    charger_id: str | None
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DownloadRecord:
    """One HTTP download of an artifact: who, which bytes, how it ended."""

    artifact_id: str
    charger_id: str
    at: datetime
    first_byte: int
    last_byte: int  # inclusive; -1 for nothing sent
    status: int  # HTTP status answered
    remote: str = ""


class FirmwareStore(Protocol):
    async def put_artifact(self, artifact: Artifact) -> None: ...

    async def artifacts(self) -> list[Artifact]:
        """Every artifact, oldest first."""
        ...

    async def artifact(self, artifact_id: str) -> Artifact | None: ...

    async def remove_artifact(self, artifact_id: str) -> bool: ...

    async def put_campaign(self, campaign: Campaign, targets: Sequence[Target] = (),
                           notes: Sequence[Note] = ()) -> None:  # fmt: skip
        """Insert or replace the campaign with the targets and history lines given, in one transaction."""
        ...

    async def put_targets(self, targets: Sequence[Target], notes: Sequence[Note] = ()) -> None: ...

    async def campaign(self, campaign_id: str) -> Campaign | None: ...

    async def campaigns(self, *, states: frozenset[State] | None = None) -> list[Campaign]:
        """Campaigns (in those states), oldest first."""
        ...

    async def targets(self, campaign_id: str) -> list[Target]:
        """The campaign's targets, in group then charger id order."""
        ...

    async def history(self, campaign_id: str, *, limit: int = 1000) -> list[Note]:
        """The latest ``limit`` lines, oldest first."""
        ...

    async def record_download(self, record: DownloadRecord) -> None: ...

    async def downloads(self, artifact_id: str, *, limit: int = 1000) -> list[DownloadRecord]:
        """The latest ``limit`` downloads of the artifact, oldest first."""
        ...
