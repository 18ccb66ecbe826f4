from __future__ import annotations

from chargewise.handlers.v201.heartbeat import handle
from tests.handlers.station import Station


async def test_heartbeat_answers_the_time(station: Station) -> None:
    station.clock.advance(0.25)
    assert await station.send(handle, "Heartbeat", {}) == {"currentTime": "2024-05-01T12:00:00.250Z"}
