from __future__ import annotations

from chargewise.handlers.v16.heartbeat import handle
from tests.handlers.station import Station


async def test_heartbeat_answers_the_time(station: Station) -> None:
    assert await station.send(handle, "Heartbeat", {}) == {"currentTime": "2024-05-01T12:00:00.000Z"}
    station.clock.advance(3600.0123)
    assert await station.send(handle, "Heartbeat", {}) == {"currentTime": "2024-05-01T13:00:00.012Z"}
