"""2.0.1 FirmwareStatusNotification reaches the campaigns with its requestId (absent for Idle)."""

from __future__ import annotations

from chargewise.handlers.v201 import firmware_status_notification
from tests.handlers.station import Station
from tests.handlers.v16.test_firmware_status_notification import Heard


async def test_statuses_go_to_the_campaigns_with_their_request_id(station: Station) -> None:
    heard = station.central.firmware = Heard()
    handle = firmware_status_notification.handle
    assert await station.send(handle, "FirmwareStatusNotification", {"status": "Downloading", "requestId": 4}) == {}
    assert await station.send(handle, "FirmwareStatusNotification", {"status": "Idle"}) == {}
    assert heard.statuses == [("CP-1", "Downloading", 4), ("CP-1", "Idle", None)]
