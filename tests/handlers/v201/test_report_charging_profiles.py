from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from chargewise.domain.reports import LimitSource, ReportKind
from chargewise.handlers.v201.report_charging_profiles import handle
from chargewise.ocpp.errors import RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import PROFILE, REQUESTS

REQUEST = REQUESTS["ReportChargingProfiles"]
KIND = ReportKind.CHARGING_PROFILES


def part(evse: int, profile_id: int, *, tbc: bool, source: str = "CSO") -> dict[str, Any]:
    return dict(REQUEST, evseId=evse, tbc=tbc, chargingLimitSource=source,
                chargingProfile=[dict(PROFILE, id=profile_id)])  # fmt: skip


async def test_a_report_in_parts_is_kept_per_request_with_each_profiles_evse_and_source(station: Station) -> None:
    for request in (part(0, 1, tbc=True), part(1, 7, tbc=True, source="EMS"), part(2, 8, tbc=False)):
        assert await station.send(handle, "ReportChargingProfiles", request) == {}
    report = await station.reports.report("CP-1", KIND, 11)
    assert report is not None and report.complete
    assert [(p.evse_id, p.source, p.profile.id) for p in report.profiles] == [
        (0, LimitSource.CSO, 1), (1, LimitSource.EMS, 7), (2, LimitSource.CSO, 8)
    ]  # fmt: skip
    profile = report.profiles[0].profile
    assert (profile.stack_level, profile.purpose, profile.kind) == (1, "TxDefaultProfile", "Absolute")
    assert profile.valid_to == datetime(2026, 12, 31, tzinfo=UTC)
    assert [s.id for s in profile.schedules] == [3]


async def test_a_retried_part_is_kept_once(station: Station) -> None:
    first, last = part(1, 1, tbc=True), part(2, 2, tbc=False)
    for request in (first, first, last, last):  # each answer lost once, the charger sends it again
        await station.send(handle, "ReportChargingProfiles", request)
    report = await station.reports.report("CP-1", KIND, 11)
    assert report is not None and report.complete and [p.profile.id for p in report.profiles] == [1, 2]


async def test_a_request_id_used_again_after_the_report_was_complete_starts_a_new_report(station: Station) -> None:
    await station.send(handle, "ReportChargingProfiles", part(1, 1, tbc=False))
    await station.send(handle, "ReportChargingProfiles", part(1, 5, tbc=True))
    report = await station.reports.report("CP-1", KIND, 11)
    assert report is not None and not report.complete and [p.profile.id for p in report.profiles] == [5]


def _profile(**changes: object) -> dict[str, Any]:
    request = copy.deepcopy(REQUEST)
    request["chargingProfile"][0].update(changes)
    return request


@pytest.mark.parametrize("request_", [
    dict(REQUEST, evseId=-1), dict(REQUEST, requestId=2**31), _profile(stackLevel=-1), _profile(id=-3),
    _profile(validFrom="2027-01-01T00:00:00Z", validTo="2026-01-01T00:00:00Z"),
], ids=["negative evse", "request id beyond int32", "negative stack level", "negative id", "validTo before validFrom"])  # fmt: skip
async def test_a_bad_report_is_refused_whole(station: Station, request_: dict[str, Any]) -> None:
    with pytest.raises(RemoteProtocolError):
        await station.send(handle, "ReportChargingProfiles", request_)
    assert await station.reports.report("CP-1", KIND, request_["requestId"]) is None
