"""``SqlFirmwareStore``: the ``FirmwareStore`` port on the database of a ``SqlStore``.

Records are their dataclasses as JSON bodies under the columns they are looked up by (``tables``, "firmware
artifacts and OTA campaigns"). Built over the server's (or the CLI's) ``SqlStore``: it writes in that store's
write turn (on SQLite its inline connection: one writer per file) and its operations finish, like the store's,
even when their caller is cancelled.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from sqlalchemy import delete, insert, select

from chargewise.adapters.sql.statements import upsert
from chargewise.adapters.sql.store import SqlStore
from chargewise.adapters.sql.tables import (
    firmware_artifacts,
    firmware_campaigns,
    firmware_downloads,
    firmware_history,
    firmware_targets,
)
from chargewise.firmware.artifacts import Artifact
from chargewise.firmware.campaign import Campaign, State, Target
from chargewise.firmware.store import DownloadRecord, FirmwareStore, Note

_R = TypeVar("_R")


def _json(record: object) -> str:
    return msgspec.json.encode(record).decode()


class SqlFirmwareStore:
    """Firmware records on the database of ``store``; closing ``store`` closes it too."""

    def __init__(self, store: SqlStore) -> None:
        # the store's private parts, on purpose: same package, and one writer per SQLite file (see ``inline``)
        self._store = store
        self._dialect = store._dialect

    def _run(self, operation: Coroutine[Any, Any, _R]) -> Coroutine[Any, Any, _R]:
        return self._store._shield.run(operation)

    async def _rows(self, query: Any) -> list[Any]:
        async with self._store._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    # --- artifacts --------------------------------------------------------------------------------------

    async def put_artifact(self, artifact: Artifact) -> None:
        await self._run(self._put_artifact(artifact))

    async def _put_artifact(self, artifact: Artifact) -> None:
        statement = upsert(self._dialect, firmware_artifacts).values(id=artifact.id, body=_json(artifact))
        statement = statement.on_conflict_do_update(index_elements=["id"], set_={"body": statement.excluded.body})
        async with self._store._write() as conn:
            await conn.execute(statement)

    async def artifacts(self) -> list[Artifact]:
        bodies = await self._run(self._rows(select(firmware_artifacts.c.body)))
        found = [msgspec.json.decode(b, type=Artifact) for b in bodies]
        return sorted(found, key=lambda a: (a.added_at, a.id))

    async def artifact(self, artifact_id: str) -> Artifact | None:
        query = select(firmware_artifacts.c.body).where(firmware_artifacts.c.id == artifact_id)
        bodies = await self._run(self._rows(query))
        return msgspec.json.decode(bodies[0], type=Artifact) if bodies else None

    async def remove_artifact(self, artifact_id: str) -> bool:
        return await self._run(self._remove_artifact(artifact_id))

    async def _remove_artifact(self, artifact_id: str) -> bool:
        async with self._store._write() as conn:
            done = await conn.execute(delete(firmware_artifacts).where(firmware_artifacts.c.id == artifact_id))
            return done.rowcount > 0

    # --- campaigns, targets, history --------------------------------------------------------------------

    async def put_campaign(self, campaign: Campaign, targets: Sequence[Target] = (),
                           notes: Sequence[Note] = ()) -> None:  # fmt: skip
        await self._run(self._put(campaign, targets, notes))

    async def put_targets(self, targets: Sequence[Target], notes: Sequence[Note] = ()) -> None:
        await self._run(self._put(None, targets, notes))

    async def _put(self, campaign: Campaign | None, targets: Sequence[Target], notes: Sequence[Note]) -> None:
        async with self._store._write() as conn:
            if campaign is not None:
                row = upsert(self._dialect, firmware_campaigns).values(
                    id=campaign.id, state=campaign.state.value, created_at=campaign.created_at, body=_json(campaign)
                )
                await conn.execute(row.on_conflict_do_update(
                    index_elements=["id"], set_={"state": row.excluded.state, "body": row.excluded.body}))  # fmt: skip
            if targets:
                rows = upsert(self._dialect, firmware_targets)
                rows = rows.on_conflict_do_update(index_elements=["campaign_id", "charger_id"],
                                                  set_={"body": rows.excluded.body})  # fmt: skip
                await conn.execute(rows, [{"campaign_id": t.campaign_id, "charger_id": t.charger_id, "grp": t.group,
                                           "body": _json(t)} for t in targets])  # fmt: skip
            if notes:
                await conn.execute(insert(firmware_history),
                                   [{"campaign_id": n.campaign_id, "body": _json(n)} for n in notes])  # fmt: skip

    async def campaign(self, campaign_id: str) -> Campaign | None:
        query = select(firmware_campaigns.c.body).where(firmware_campaigns.c.id == campaign_id)
        bodies = await self._run(self._rows(query))
        return msgspec.json.decode(bodies[0], type=Campaign) if bodies else None

    async def campaigns(self, *, states: frozenset[State] | None = None) -> list[Campaign]:
        c = firmware_campaigns.c
        query = select(c.body).order_by(c.created_at, c.id)
        if states is not None:
            query = query.where(c.state.in_([s.value for s in states]))
        return [msgspec.json.decode(b, type=Campaign) for b in await self._run(self._rows(query))]

    async def targets(self, campaign_id: str) -> list[Target]:
        c = firmware_targets.c
        query = select(c.body).where(c.campaign_id == campaign_id).order_by(c.grp, c.charger_id)
        return [msgspec.json.decode(b, type=Target) for b in await self._run(self._rows(query))]

    async def history(self, campaign_id: str, *, limit: int = 1000) -> list[Note]:
        c = firmware_history.c
        query = select(c.body).where(c.campaign_id == campaign_id).order_by(c.id.desc()).limit(limit)
        return [msgspec.json.decode(b, type=Note) for b in reversed(await self._run(self._rows(query)))]

    # --- downloads --------------------------------------------------------------------------------------

    async def record_download(self, record: DownloadRecord) -> None:
        await self._run(self._record_download(record))

    async def _record_download(self, record: DownloadRecord) -> None:
        async with self._store._write() as conn:
            await conn.execute(insert(firmware_downloads).values(artifact_id=record.artifact_id, body=_json(record)))

    async def downloads(self, artifact_id: str, *, limit: int = 1000) -> list[DownloadRecord]:
        c = firmware_downloads.c
        query = select(c.body).where(c.artifact_id == artifact_id).order_by(c.id.desc()).limit(limit)
        return [msgspec.json.decode(b, type=DownloadRecord) for b in reversed(await self._run(self._rows(query)))]


if TYPE_CHECKING:  # mypy proves here that SqlFirmwareStore implements the whole port
    _implements: type[FirmwareStore] = SqlFirmwareStore
