from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from chargewise.domain.reports import (
    ChargingLimit,
    ChargingSchedule,
    LimitSource,
    RateUnit,
    SchedulePeriod,
)
from chargewise.handlers.v201 import cleared_charging_limit, notify_charging_limit
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import REQUESTS, SCHEDULE

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOTIFY = REQUESTS["NotifyChargingLimit"]


async def test_a_limit_is_kept_with_its_schedule_per_evse_and_source(station: Station) -> None:
    assert await station.send(notify_charging_limit.handle, "NotifyChargingLimit", NOTIFY) == {}
    charger_wide = {"chargingLimit": {"chargingLimitSource": "EMS"}}
    assert await station.send(notify_charging_limit.handle, "NotifyChargingLimit", charger_wide) == {}

    schedule = ChargingSchedule(
        id=3, rate_unit=RateUnit.WATT, start=T0, duration_s=3600, min_rate=1200.0,
        periods=(SchedulePeriod(start_s=0, limit=11000.0, phases=3),
                 SchedulePeriod(start_s=1800, limit=3680.5, phases=1, phase_to_use=2)),
    )  # fmt: skip
    now = station.clock.now()
    assert await station.reports.charging_limits("CP-1") == [
        ChargingLimit(charger_id="CP-1", evse_id=0, source=LimitSource.EMS, reported_at=now),
        ChargingLimit(charger_id="CP-1", evse_id=1, source=LimitSource.SO, schedules=(schedule,), grid_critical=True,
                      reported_at=now),
    ]  # fmt: skip


async def test_a_new_limit_of_the_same_source_replaces_the_old(station: Station) -> None:
    await station.send(notify_charging_limit.handle, "NotifyChargingLimit", NOTIFY)
    lower = copy.deepcopy(NOTIFY)
    lower["chargingSchedule"][0]["chargingSchedulePeriod"] = [{"startPeriod": 0, "limit": 2000.0}]
    await station.send(notify_charging_limit.handle, "NotifyChargingLimit", lower)
    [kept] = await station.reports.charging_limits("CP-1")
    assert [p.limit for s in kept.schedules for p in s.periods] == [2000.0]


async def test_cleared_removes_only_that_evse_and_source(station: Station) -> None:
    for evse, source in [(1, "SO"), (1, "EMS"), (2, "SO"), (None, "SO")]:
        request = {"chargingLimit": {"chargingLimitSource": source}} | ({} if evse is None else {"evseId": evse})
        await station.send(notify_charging_limit.handle, "NotifyChargingLimit", request)
    answer = await station.send(cleared_charging_limit.handle, "ClearedChargingLimit", REQUESTS["ClearedChargingLimit"])
    assert answer == {}
    left = [(limit.evse_id, limit.source.value) for limit in await station.reports.charging_limits("CP-1")]
    assert left == [(0, "SO"), (1, "EMS"), (2, "SO")]
    await station.send(cleared_charging_limit.handle, "ClearedChargingLimit", {"chargingLimitSource": "SO"})
    left = [(limit.evse_id, limit.source.value) for limit in await station.reports.charging_limits("CP-1")]
    assert left == [(1, "EMS"), (2, "SO")]
    # clearing what was never set is no error
    assert await station.send(cleared_charging_limit.handle, "ClearedChargingLimit",
                              {"chargingLimitSource": "CSO", "evseId": 9}) == {}  # fmt: skip


def _with_periods(*periods: dict[str, object]) -> dict[str, object]:
    request = copy.deepcopy(NOTIFY)
    request["chargingSchedule"] = [dict(SCHEDULE, chargingSchedulePeriod=list(periods))]
    return request


BAD = {
    "evse 0 (the schema leaves it open; the spec says > 0)": dict(NOTIFY, evseId=0),
    "evse beyond int32": dict(NOTIFY, evseId=2**31),
    "evse beyond any charger's (each would be kept)": dict(NOTIFY, evseId=129),
    "first period not at 0": _with_periods({"startPeriod": 60, "limit": 1.0}),
    "periods going back": _with_periods({"startPeriod": 0, "limit": 1.0}, {"startPeriod": 0, "limit": 2.0}),
    "huge limit": _with_periods({"startPeriod": 0, "limit": 1e308}),
    "negative limit": _with_periods({"startPeriod": 0, "limit": -1.0}),
    "phaseToUse with three phases": _with_periods({"startPeriod": 0, "limit": 1.0, "numberPhases": 3, "phaseToUse": 1}),
    "four phases": _with_periods({"startPeriod": 0, "limit": 1.0, "numberPhases": 4}),
    "start beyond UTC": dict(NOTIFY, chargingSchedule=[dict(SCHEDULE, startSchedule="0001-01-01T00:00:00+01:00")]),
}


@pytest.mark.parametrize("request_", BAD.values(), ids=BAD.keys())
async def test_values_the_schema_leaves_open_are_refused_and_nothing_is_kept(
    station: Station, request_: dict[str, object]
) -> None:
    with pytest.raises(RemoteProtocolError) as refused:
        await station.send(notify_charging_limit.handle, "NotifyChargingLimit", request_)
    assert refused.value.kind is ErrorKind.PROPERTY_CONSTRAINT
    assert await station.reports.charging_limits("CP-1") == []


async def test_cleared_with_a_negative_evse_is_refused(station: Station) -> None:
    await station.send(notify_charging_limit.handle, "NotifyChargingLimit", NOTIFY)
    with pytest.raises(RemoteProtocolError):
        await station.send(cleared_charging_limit.handle, "ClearedChargingLimit",
                           {"chargingLimitSource": "SO", "evseId": -1})  # fmt: skip
    assert len(await station.reports.charging_limits("CP-1")) == 1
