from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chargewise.adapters.memory_reports import MemoryReportStore
from chargewise.domain.reports import (
    EnergyTransfer,
    EvChargingNeeds,
    ReportKind,
    ReportPart,
    ReservationEnd,
    ReservationUpdate,
    stored_size,
)
from chargewise.services.central import CentralSystem
from chargewise.services.reports import NeedsAnswer, NoReportStore, Reports

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def part(seq_no: int, *, tbc: bool, data: str = "", at: datetime = T0, kind: ReportKind = ReportKind.DISPLAY_MESSAGES
         ) -> ReportPart:  # fmt: skip
    return ReportPart(charger_id="CP1", kind=kind, request_id=1, seq_no=seq_no, tbc=tbc, data=data, reported_at=at)


async def test_unnumbered_parts_are_numbered_on_arrival_and_a_retry_later_on_is_dropped() -> None:
    reports = Reports(store=MemoryReportStore())
    await reports.report_part(part(0, tbc=True, data="a"))
    await reports.report_part(part(0, tbc=True, data="a", at=T0 + timedelta(seconds=30)))  # the same, resent
    await reports.report_part(part(0, tbc=False, data="b"))
    report = await reports.report("CP1", ReportKind.DISPLAY_MESSAGES, 1)
    assert report is not None and report.complete and [p.seq_no for p in report.parts] == [0, 1]
    assert report.data == "ab" and report.parts[0].reported_at == T0


async def test_numbered_parts_keep_the_chargers_numbers() -> None:
    reports = Reports(store=MemoryReportStore())
    for seq_no in (0, 1, 1, 2):
        await reports.report_part(part(seq_no, tbc=seq_no < 2, data=str(seq_no), kind=ReportKind.MONITORING))
    report = await reports.report("CP1", ReportKind.MONITORING, 1)
    assert report is not None and report.complete and report.data == "012"


async def test_ev_needs_are_kept_and_answered_rejected_where_no_engine_sends_schedules() -> None:
    reports = Reports(store=MemoryReportStore())
    needs = EvChargingNeeds(charger_id="CP1", evse_id=1, transfer=EnergyTransfer.DC, reported_at=T0)
    assert await reports.ev_needs(needs) is NeedsAnswer.REJECTED
    assert await reports.store.ev_charging_needs("CP1", 1) == needs
    # smart charging controls CP1's EVSE 1, not EVSE 2: a schedule follows for the first only
    taken: list[EvChargingNeeds] = []
    reports.take_needs = lambda n: taken.append(n) is None and n.evse_id == 1
    assert await reports.ev_needs(needs) is NeedsAnswer.ACCEPTED
    other = EvChargingNeeds(charger_id="CP1", evse_id=2, transfer=EnergyTransfer.AC_THREE_PHASE, reported_at=T0)
    assert await reports.ev_needs(other) is NeedsAnswer.REJECTED
    assert taken == [needs, other]


def test_a_central_system_built_without_reports_keeps_none(central: CentralSystem) -> None:
    assert isinstance(central.reports.store, NoReportStore)


async def test_a_chargers_reports_of_a_kind_stay_within_the_quota_older_ones_making_room() -> None:
    size = stored_size(part(0, tbc=False, data="x" * 400, kind=ReportKind.MONITORING))
    reports = Reports(store=MemoryReportStore(), quota=3 * size)
    for request_id in (1, 2, 3, 4):
        whole = replace(part(0, tbc=False, data="x" * 400, kind=ReportKind.MONITORING), request_id=request_id)
        assert await reports.report_part(whole)
    sizes = await reports.store.report_sizes("CP1", ReportKind.MONITORING)
    assert sorted(sizes) == [2, 3, 4] and sum(sizes.values()) <= reports.quota
    # a report that alone outgrows the quota keeps the parts that fit, and costs the others nothing more
    big = [replace(part(n, tbc=True, data="x" * 400, kind=ReportKind.MONITORING), request_id=9) for n in range(4)]
    assert [await reports.report_part(each) for each in big] == [True, True, True, False]
    assert sorted(await reports.store.report_sizes("CP1", ReportKind.MONITORING)) == [9]
    report = await reports.report("CP1", ReportKind.MONITORING, 9)
    assert report is not None and len(report.parts) == 3


async def test_reservation_updates_are_kept_up_to_the_limit() -> None:
    reports = Reports(store=MemoryReportStore(), reservations=2)
    for reservation_id in (1, 2, 3):
        await reports.reservation_ended(ReservationUpdate(charger_id="CP1", reservation_id=reservation_id,
                                                          status=ReservationEnd.REMOVED, reported_at=T0))  # fmt: skip
    assert await reports.store.reservation_update("CP1", 1) is None
    assert await reports.store.reservation_update("CP1", 3) is not None
