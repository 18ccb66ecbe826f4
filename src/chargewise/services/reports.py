"""Use cases for what chargers report besides transactions (see ``domain.reports``); handlers reach them as
``ctx.central.reports``. Every method that records something returns once it is durable."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace
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

REPORT_QUOTA = 1_000_000
KEEP_RESERVATIONS = 1_000


class NeedsAnswer(enum.StrEnum):
    """The 2.0.1 NotifyEVChargingNeeds status: Accepted, a schedule follows at once; Processing, one follows
    later; Rejected, none is coming (the service is not available) and the charger keeps its own."""

    ACCEPTED = "Accepted"
    PROCESSING = "Processing"
    REJECTED = "Rejected"


class Reports:
    """Build one per process in ``bootstrap`` over the durable store; tests pass a ``MemoryReportStore``."""

    def __init__(self, *, store: ReportStore, quota: int = REPORT_QUOTA, reservations: int = KEEP_RESERVATIONS) -> None:
        self.store = store
        #: characters of JSON kept per charger and report kind
        self.quota = quota
        #: reservation ids kept per charger (the highest)
        self.reservations = reservations
        #: smart charging's hook: takes an EV's needs and says whether it controls that EVSE (bootstrap sets it)
        self.take_needs: Callable[[EvChargingNeeds], bool] | None = None
        #: smart charging's hook: a charger's external limits changed (bootstrap sets it)
        self.on_limit: Callable[[str], None] | None = None

    async def limit_set(self, limit: ChargingLimit) -> None:
        """An external system limits an EVSE (NotifyChargingLimit): replaces that source's earlier limit."""
        await self.store.put_charging_limit(limit)
        if self.on_limit is not None:
            self.on_limit(limit.charger_id)

    async def limit_cleared(self, charger_id: str, evse_id: int, source: LimitSource) -> None:
        """ClearedChargingLimit: only that EVSE's limit of that source goes; a station-wide one (EVSE 0) is
        cleared only by a clear without EVSE. Clearing a limit never recorded is not an error."""
        await self.store.clear_charging_limit(charger_id, evse_id, source)
        if self.on_limit is not None:
            self.on_limit(charger_id)

    async def ev_needs(self, needs: EvChargingNeeds) -> NeedsAnswer:
        """Record what the EV asked for and say whether a schedule will come: Accepted when smart charging
        controls the EVSE (``take_needs`` took them: its next cycle, at once, sends the profile), else Rejected
        ("service not available"), since Accepted or Processing would keep the charger, and the EV, waiting for
        a SetChargingProfile that never comes."""
        await self.store.put_ev_charging_needs(needs)
        if self.take_needs is not None and self.take_needs(needs):
            return NeedsAnswer.ACCEPTED
        return NeedsAnswer.REJECTED

    async def ev_schedule(self, schedule: EvChargingSchedule) -> None:
        """Record the EV's own schedule (NotifyEVChargingSchedule: answered Accepted, which approves nothing)."""
        await self.store.put_ev_charging_schedule(schedule)

    async def report_part(self, part: ReportPart) -> bool:
        """Add one message of a multi-part report; False if it would not fit the quota (nothing stored: answer
        the charger with an error).

        Numbered kinds (the charger's seqNo): part 0 starts the report over, so a request id used again
        replaces the old report; another part replaces its namesake (a retry). Parts that carry no number
        are numbered in arrival order: one equal to the last part is a retry and is dropped, and one that
        arrives after the report was complete starts a new report.

        A charger's reports of one kind may take :attr:`quota` characters in all (their JSON): older reports
        (lower request ids) make room for a new one, and a report that alone would exceed it is not kept
        beyond the parts that fit. What one charger sends costs only its own reports."""
        if part.kind.numbered:
            numbered, start_over = part, part.seq_no == 0
        else:
            last = await self.store.last_report_part(part.charger_id, part.kind, part.request_id)
            if last is not None and replace(last, reported_at=part.reported_at, seq_no=part.seq_no) == part:
                return True
            if last is None or not last.tbc:
                numbered, start_over = replace(part, seq_no=0), True
            else:
                numbered, start_over = replace(part, seq_no=last.seq_no + 1), False
        if not await self._make_room(numbered, start_over=start_over):
            return False
        await self.store.put_report_part(numbered, start_over=start_over)
        return True

    async def _make_room(self, part: ReportPart, *, start_over: bool) -> bool:
        """Drop the charger's other reports of the kind, lowest request id first, until ``part`` fits the quota;
        False (and nothing dropped) if its own report would exceed it."""
        sizes = await self.store.report_sizes(part.charger_id, part.kind)
        before = sizes.pop(part.request_id, 0)
        own = (0 if start_over else before) + stored_size(part)
        if own > self.quota:
            return False
        others = sum(sizes.values())
        for request_id in sorted(sizes):
            if own + others <= self.quota:
                break
            await self.store.drop_report(part.charger_id, part.kind, request_id)
            others -= sizes[request_id]
        return True

    async def report(self, charger_id: str, kind: ReportKind, request_id: int) -> Report | None:
        """The report as received so far; ``complete`` tells whether every part arrived."""
        return await self.store.report(charger_id, kind, request_id)

    async def firmware_published(self, publication: FirmwarePublication) -> None:
        """PublishFirmwareStatusNotification: the charger's latest publication status replaces the last."""
        await self.store.put_firmware_publication(publication)

    async def reservation_ended(self, update: ReservationUpdate) -> None:
        """ReservationStatusUpdate: the reservation expired or was removed; the latest status is kept."""
        await self.store.put_reservation_update(update, keep=self.reservations)


class NoReportStore:
    """Keeps nothing and finds nothing: the store of a ``CentralSystem`` built without ``reports`` (unit tests
    of other use cases). A server always gets the durable one from ``bootstrap``."""

    async def put_charging_limit(self, limit: ChargingLimit) -> None:
        pass

    async def clear_charging_limit(self, charger_id: str, evse_id: int, source: LimitSource) -> bool:
        return False

    async def charging_limits(self, charger_id: str) -> list[ChargingLimit]:
        return []

    async def put_ev_charging_needs(self, needs: EvChargingNeeds) -> None:
        pass

    async def ev_charging_needs(self, charger_id: str, evse_id: int) -> EvChargingNeeds | None:
        return None

    async def put_ev_charging_schedule(self, schedule: EvChargingSchedule) -> None:
        pass

    async def ev_charging_schedule(self, charger_id: str, evse_id: int) -> EvChargingSchedule | None:
        return None

    async def put_report_part(self, part: ReportPart, *, start_over: bool) -> None:
        pass

    async def last_report_part(self, charger_id: str, kind: ReportKind, request_id: int) -> ReportPart | None:
        return None

    async def report(self, charger_id: str, kind: ReportKind, request_id: int) -> Report | None:
        return None

    async def report_sizes(self, charger_id: str, kind: ReportKind) -> dict[int, int]:
        return {}

    async def drop_report(self, charger_id: str, kind: ReportKind, request_id: int) -> None:
        pass

    async def put_firmware_publication(self, publication: FirmwarePublication) -> None:
        pass

    async def firmware_publication(self, charger_id: str) -> FirmwarePublication | None:
        return None

    async def put_reservation_update(self, update: ReservationUpdate, *, keep: int) -> None:
        pass

    async def reservation_update(self, charger_id: str, reservation_id: int) -> ReservationUpdate | None:
        return None


if TYPE_CHECKING:  # mypy proves here that NoReportStore implements the whole port
    _implements: type[ReportStore] = NoReportStore
