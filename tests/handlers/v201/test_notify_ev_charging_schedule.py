from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargewise.handlers.v201.notify_ev_charging_schedule import handle
from chargewise.ocpp.errors import RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import REQUESTS

REQUEST = REQUESTS["NotifyEVChargingSchedule"]


async def test_the_evs_schedule_is_kept_and_accepted(station: Station) -> None:
    assert await station.send(handle, "NotifyEVChargingSchedule", REQUEST) == {"status": "Accepted"}
    kept = await station.reports.ev_charging_schedule("CP-1", 1)
    assert kept is not None and kept.time_base == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert [(p.start_s, p.limit) for p in kept.schedule.periods] == [(0, 11000.0), (1800, 3680.5)]


@pytest.mark.parametrize("request_", [dict(REQUEST, evseId=0), dict(REQUEST, timeBase="0001-01-01T00:30:00+01:00")],
                         ids=["evse 0", "time base beyond UTC"])  # fmt: skip
async def test_a_bad_schedule_is_refused_and_not_kept(station: Station, request_: dict[str, object]) -> None:
    with pytest.raises(RemoteProtocolError):
        await station.send(handle, "NotifyEVChargingSchedule", request_)
    assert await station.reports.ev_charging_schedule("CP-1", 0) is None
    assert await station.reports.ev_charging_schedule("CP-1", 1) is None
