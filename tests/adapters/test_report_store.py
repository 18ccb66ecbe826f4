"""The ``ReportStore`` contract, run against the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.adapters.memory_reports import MemoryReportStore
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.reports import SqlReportStore
from chargewise.domain.reports import (
    ChargingLimit,
    ChargingProfile,
    ChargingSchedule,
    DisplayMessage,
    EnergyTransfer,
    EvChargingNeeds,
    EvChargingSchedule,
    FirmwarePublication,
    LimitSource,
    Monitor,
    PublicationStatus,
    RateUnit,
    ReportedProfile,
    ReportKind,
    ReportPart,
    ReportStore,
    ReservationEnd,
    ReservationUpdate,
    SchedulePeriod,
    stored_size,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SCHEDULE = ChargingSchedule(
    id=3, rate_unit=RateUnit.WATT, start=T0, duration_s=3600, min_rate=1200.0,
    periods=(SchedulePeriod(start_s=0, limit=11000.0, phases=3), SchedulePeriod(start_s=1800, limit=3680.5, phases=1,
                                                                                  phase_to_use=2)),
)  # fmt: skip


@pytest.fixture
async def reports(store_url: str | None) -> AsyncIterator[ReportStore]:
    """Once per backend; the SQL one over a fresh ``SqlStore``."""
    if store_url is None:
        yield MemoryReportStore()
        return
    store = await open_store(store_url)
    try:
        yield SqlReportStore(store)
    finally:
        await store.close()


def limit(evse_id: int, source: LimitSource, charger_id: str = "CP1", **changes: object) -> ChargingLimit:
    fields: dict[str, object] = {"schedules": (SCHEDULE,), "grid_critical": True, "reported_at": T0} | changes
    return ChargingLimit(charger_id=charger_id, evse_id=evse_id, source=source, **fields)  # type: ignore[arg-type]


async def test_charging_limits_are_kept_per_evse_and_source_and_cleared_one_by_one(reports: ReportStore) -> None:
    await reports.put_charging_limit(limit(1, LimitSource.SO))
    await reports.put_charging_limit(limit(0, LimitSource.EMS, schedules=()))
    await reports.put_charging_limit(limit(1, LimitSource.EMS))
    await reports.put_charging_limit(limit(1, LimitSource.SO, grid_critical=False))  # replaces the first
    await reports.put_charging_limit(limit(1, LimitSource.SO, charger_id="CP2"))

    assert await reports.charging_limits("CP1") == [
        limit(0, LimitSource.EMS, schedules=()), limit(1, LimitSource.EMS), limit(1, LimitSource.SO, grid_critical=False)
    ]  # fmt: skip
    assert await reports.clear_charging_limit("CP1", 1, LimitSource.SO) is True
    assert await reports.clear_charging_limit("CP1", 1, LimitSource.SO) is False
    assert await reports.clear_charging_limit("CP1", 2, LimitSource.EMS) is False
    assert await reports.charging_limits("CP1") == [limit(0, LimitSource.EMS, schedules=()), limit(1, LimitSource.EMS)]
    assert await reports.charging_limits("CP2") == [limit(1, LimitSource.SO, charger_id="CP2")]


async def test_ev_charging_needs_and_schedule_keep_the_latest_per_evse(reports: ReportStore) -> None:
    first = EvChargingNeeds(charger_id="CP1", evse_id=1, transfer=EnergyTransfer.AC_THREE_PHASE, reported_at=T0,
                            departure_time=T0 + timedelta(hours=8), energy_wh=30000.0, min_current_a=6.0,
                            max_current_a=32.0, max_voltage_v=400.0, max_schedule_tuples=12)  # fmt: skip
    second = EvChargingNeeds(charger_id="CP1", evse_id=1, transfer=EnergyTransfer.DC, reported_at=T0, state_of_charge=40,
                             max_power_w=50000.0, capacity_wh=77000.0)  # fmt: skip
    assert await reports.ev_charging_needs("CP1", 1) is None
    await reports.put_ev_charging_needs(first)
    assert await reports.ev_charging_needs("CP1", 1) == first
    await reports.put_ev_charging_needs(second)
    assert await reports.ev_charging_needs("CP1", 1) == second
    assert await reports.ev_charging_needs("CP1", 2) is None

    schedule = EvChargingSchedule(charger_id="CP1", evse_id=1, time_base=T0, schedule=SCHEDULE, reported_at=T0)
    await reports.put_ev_charging_schedule(schedule)
    assert await reports.ev_charging_schedule("CP1", 1) == schedule
    assert await reports.ev_charging_schedule("CP2", 1) is None


PROFILE = ChargingProfile(id=7, stack_level=1, purpose="TxDefaultProfile", kind="Recurring", recurrency="Daily",
                          schedules=(SCHEDULE,), valid_from=T0, valid_to=T0 + timedelta(days=30), transaction_id="tx-1")  # fmt: skip
MONITOR = Monitor(component="EVSE", variable="Power", id=4, type="UpperThreshold", value=-1.5, severity=7,
                  transaction=False, component_instance="main", evse_id=1, variable_instance="L1")  # fmt: skip
MESSAGE = DisplayMessage(id=2, priority="InFront", content="Welcome", format="UTF8", language="en", state="Idle",
                         start=T0, end=T0 + timedelta(days=1), transaction_id=None)  # fmt: skip


def part(kind: ReportKind, seq_no: int, *, tbc: bool, request_id: int = 5, **changes: object) -> ReportPart:
    return ReportPart(charger_id="CP1", kind=kind, request_id=request_id, seq_no=seq_no, tbc=tbc, reported_at=T0,
                      **changes)  # type: ignore[arg-type]  # fmt: skip


async def test_report_parts_are_read_back_by_seq_no_and_start_over_on_request(reports: ReportStore) -> None:
    kind = ReportKind.MONITORING
    later = part(kind, 1, tbc=False, generated_at=T0, monitors=(MONITOR,))
    first = part(kind, 0, tbc=True, generated_at=T0, monitors=(MONITOR, MONITOR))
    assert await reports.report("CP1", kind, 5) is None and await reports.last_report_part("CP1", kind, 5) is None
    await reports.put_report_part(later, start_over=False)
    await reports.put_report_part(first, start_over=False)
    await reports.put_report_part(part(ReportKind.CUSTOMER_INFORMATION, 0, tbc=False, data="x"), start_over=False)
    await reports.put_report_part(part(kind, 0, tbc=False, request_id=6), start_over=False)

    report = await reports.report("CP1", kind, 5)
    assert report is not None and report.parts == (first, later) and report.complete
    assert report.monitors == (MONITOR,) * 3
    assert await reports.last_report_part("CP1", kind, 5) == later

    again = part(kind, 0, tbc=True, generated_at=T0 + timedelta(hours=1))
    await reports.put_report_part(again, start_over=True)  # the other request's parts and kinds stay
    report = await reports.report("CP1", kind, 5)
    assert report is not None and report.parts == (again,) and not report.complete
    assert (await reports.report("CP1", kind, 6)) is not None
    assert (await reports.report("CP1", ReportKind.CUSTOMER_INFORMATION, 5)) is not None


async def test_every_kind_of_report_content_survives_the_round_trip(reports: ReportStore) -> None:
    parts = [
        part(ReportKind.CHARGING_PROFILES, 0, tbc=False,
             profiles=(ReportedProfile(evse_id=1, source=LimitSource.CSO, profile=PROFILE),)),
        part(ReportKind.DISPLAY_MESSAGES, 0, tbc=False, messages=(MESSAGE,)),
        part(ReportKind.CUSTOMER_INFORMATION, 0, tbc=False, generated_at=T0, data="name: Ada \u00e9\u20ac"),
    ]  # fmt: skip
    for each in parts:
        await reports.put_report_part(each, start_over=True)
    for each in parts:
        assert await reports.report("CP1", each.kind, 5) is not None
        assert (await reports.report("CP1", each.kind, 5)).parts == (each,)  # type: ignore[union-attr]


async def test_firmware_publication_and_reservation_updates_keep_the_latest(reports: ReportStore) -> None:
    assert await reports.firmware_publication("CP1") is None
    downloading = FirmwarePublication(charger_id="CP1", status=PublicationStatus.DOWNLOADING, request_id=9,
                                      reported_at=T0)  # fmt: skip
    published = FirmwarePublication(charger_id="CP1", status=PublicationStatus.PUBLISHED, request_id=9,
                                    locations=("http://lc/fw.bin", "ftp://lc/fw.bin"), reported_at=T0)  # fmt: skip
    await reports.put_firmware_publication(downloading)
    await reports.put_firmware_publication(published)
    assert await reports.firmware_publication("CP1") == published

    expired = ReservationUpdate(charger_id="CP1", reservation_id=3, status=ReservationEnd.EXPIRED, reported_at=T0)
    removed = ReservationUpdate(charger_id="CP1", reservation_id=4, status=ReservationEnd.REMOVED, reported_at=T0)
    await reports.put_reservation_update(expired, keep=2)
    await reports.put_reservation_update(removed, keep=2)
    assert await reports.reservation_update("CP1", 3) == expired
    assert await reports.reservation_update("CP1", 4) == removed
    assert await reports.reservation_update("CP2", 3) is None


async def test_reservation_updates_keep_the_chargers_highest_ids(reports: ReportStore) -> None:
    def update(charger_id: str, reservation_id: int) -> ReservationUpdate:
        return ReservationUpdate(charger_id=charger_id, reservation_id=reservation_id, status=ReservationEnd.EXPIRED,
                                 reported_at=T0)  # fmt: skip

    await reports.put_reservation_update(update("CP2", 1), keep=2)
    for reservation_id in (5, 1, 9, 7):
        await reports.put_reservation_update(update("CP1", reservation_id), keep=2)
    kept = [n for n in (1, 5, 7, 9) if await reports.reservation_update("CP1", n) is not None]
    assert kept == [7, 9]
    assert await reports.reservation_update("CP2", 1) is not None  # another charger's are its own


async def test_report_sizes_count_each_reports_json_and_a_report_can_be_dropped(reports: ReportStore) -> None:
    kind = ReportKind.CUSTOMER_INFORMATION
    a0, a1 = part(kind, 0, tbc=True, data="x" * 100), part(kind, 1, tbc=False, data="\u00e9" * 10)
    b0 = part(kind, 0, tbc=False, request_id=8, data="y")
    for each in (a0, a1, b0, part(ReportKind.MONITORING, 0, tbc=False)):
        await reports.put_report_part(each, start_over=False)
    assert await reports.report_sizes("CP1", kind) == {5: stored_size(a0) + stored_size(a1), 8: stored_size(b0)}
    assert await reports.report_sizes("CP2", kind) == {}
    await reports.drop_report("CP1", kind, 5)
    assert await reports.report("CP1", kind, 5) is None
    assert await reports.report_sizes("CP1", kind) == {8: stored_size(b0)}
    assert await reports.report("CP1", ReportKind.MONITORING, 5) is not None


async def test_sql_reports_survive_reopening(sql_url: str) -> None:
    store = await open_store(sql_url)
    try:
        await SqlReportStore(store).put_charging_limit(limit(1, LimitSource.SO))
    finally:
        await store.close()
    store = await open_store(sql_url)
    try:
        assert await SqlReportStore(store).charging_limits("CP1") == [limit(1, LimitSource.SO)]
    finally:
        await store.close()
