"""``MemoryReportStore``: the ``ReportStore`` port in dicts, for unit tests and demos. Nothing survives.

It behaves like ``chargewise.adapters.sql.reports.SqlReportStore`` (one contract suite runs against both);
the records are frozen, so handing out the stored objects is safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chargewise.domain.reports import (
    ChargingLimit,
    EvChargingNeeds,
    EvChargingSchedule,
    FirmwarePublication,
    LimitSource,
    Report,
    ReportKind,
    ReportPart,
    ReportStore,
    ReservationUpdate,
    stored_size,
)

ReportKey = tuple[str, ReportKind, int]


class MemoryReportStore:
    """A fresh, empty store."""

    def __init__(self) -> None:
        self._limits: dict[tuple[str, int, LimitSource], ChargingLimit] = {}
        self._needs: dict[tuple[str, int], EvChargingNeeds] = {}
        self._schedules: dict[tuple[str, int], EvChargingSchedule] = {}
        self._parts: dict[ReportKey, dict[int, ReportPart]] = {}
        self._publications: dict[str, FirmwarePublication] = {}
        self._reservations: dict[tuple[str, int], ReservationUpdate] = {}

    async def put_charging_limit(self, limit: ChargingLimit) -> None:
        self._limits[limit.charger_id, limit.evse_id, limit.source] = limit

    async def clear_charging_limit(self, charger_id: str, evse_id: int, source: LimitSource) -> bool:
        return self._limits.pop((charger_id, evse_id, source), None) is not None

    async def charging_limits(self, charger_id: str) -> list[ChargingLimit]:
        return [self._limits[key] for key in sorted(self._limits) if key[0] == charger_id]

    async def put_ev_charging_needs(self, needs: EvChargingNeeds) -> None:
        self._needs[needs.charger_id, needs.evse_id] = needs

    async def ev_charging_needs(self, charger_id: str, evse_id: int) -> EvChargingNeeds | None:
        return self._needs.get((charger_id, evse_id))

    async def put_ev_charging_schedule(self, schedule: EvChargingSchedule) -> None:
        self._schedules[schedule.charger_id, schedule.evse_id] = schedule

    async def ev_charging_schedule(self, charger_id: str, evse_id: int) -> EvChargingSchedule | None:
        return self._schedules.get((charger_id, evse_id))

    async def put_report_part(self, part: ReportPart, *, start_over: bool) -> None:
        key = (part.charger_id, part.kind, part.request_id)
        if start_over:
            self._parts.pop(key, None)
        self._parts.setdefault(key, {})[part.seq_no] = part

    async def last_report_part(self, charger_id: str, kind: ReportKind, request_id: int) -> ReportPart | None:
        parts = self._parts.get((charger_id, kind, request_id))
        return parts[max(parts)] if parts else None

    async def report(self, charger_id: str, kind: ReportKind, request_id: int) -> Report | None:
        parts = self._parts.get((charger_id, kind, request_id))
        return Report(parts=tuple(parts[n] for n in sorted(parts))) if parts else None

    async def report_sizes(self, charger_id: str, kind: ReportKind) -> dict[int, int]:
        return {
            request_id: sum(stored_size(part) for part in parts.values())
            for (charger, of_kind, request_id), parts in self._parts.items()
            if (charger, of_kind) == (charger_id, kind)
        }

    async def drop_report(self, charger_id: str, kind: ReportKind, request_id: int) -> None:
        self._parts.pop((charger_id, kind, request_id), None)

    async def put_firmware_publication(self, publication: FirmwarePublication) -> None:
        self._publications[publication.charger_id] = publication

    async def firmware_publication(self, charger_id: str) -> FirmwarePublication | None:
        return self._publications.get(charger_id)

    async def put_reservation_update(self, update: ReservationUpdate, *, keep: int) -> None:
        self._reservations[update.charger_id, update.reservation_id] = update
        ids = sorted(rid for charger, rid in self._reservations if charger == update.charger_id)
        for rid in ids[: max(len(ids) - keep, 0)]:
            del self._reservations[update.charger_id, rid]

    async def reservation_update(self, charger_id: str, reservation_id: int) -> ReservationUpdate | None:
        return self._reservations.get((charger_id, reservation_id))


if TYPE_CHECKING:  # mypy proves here that MemoryReportStore implements the whole port
    _implements: type[ReportStore] = MemoryReportStore
