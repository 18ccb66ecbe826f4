from __future__ import annotations

import pytest

from chargewise.domain.reports import FirmwarePublication, PublicationStatus
from chargewise.handlers.v201.publish_firmware_status_notification import handle
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import REQUESTS

REQUEST = REQUESTS["PublishFirmwareStatusNotification"]


async def test_the_latest_status_is_kept_per_charger(station: Station) -> None:
    assert await station.send(handle, "PublishFirmwareStatusNotification", {"status": "Downloading",
                                                                            "requestId": 15}) == {}  # fmt: skip
    assert await station.send(handle, "PublishFirmwareStatusNotification", REQUEST) == {}
    assert await station.reports.firmware_publication("CP-1") == FirmwarePublication(
        charger_id="CP-1", status=PublicationStatus.PUBLISHED, request_id=15, locations=("http://lc.local/fw.bin",),
        reported_at=station.clock.now(),
    )  # fmt: skip


async def test_published_without_a_location_is_refused(station: Station) -> None:
    with pytest.raises(RemoteProtocolError) as refused:
        await station.send(handle, "PublishFirmwareStatusNotification", {"status": "Published", "requestId": 15})
    assert refused.value.kind is ErrorKind.OCCURRENCE_CONSTRAINT
    assert await station.reports.firmware_publication("CP-1") is None
