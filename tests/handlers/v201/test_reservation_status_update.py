from __future__ import annotations

import pytest

from chargewise.domain.reports import ReservationEnd
from chargewise.handlers.v201.reservation_status_update import handle
from chargewise.ocpp.errors import RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import REQUESTS

REQUEST = REQUESTS["ReservationStatusUpdate"]


async def test_the_status_is_kept_per_reservation(station: Station) -> None:
    assert await station.send(handle, "ReservationStatusUpdate", REQUEST) == {}
    await station.send(handle, "ReservationStatusUpdate", {"reservationId": 17, "reservationUpdateStatus": "Removed"})
    expired = await station.reports.reservation_update("CP-1", 16)
    removed = await station.reports.reservation_update("CP-1", 17)
    assert expired is not None and expired.status is ReservationEnd.EXPIRED
    assert removed is not None and removed.status is ReservationEnd.REMOVED
    assert await station.reports.reservation_update("CP-2", 16) is None


async def test_an_id_beyond_int32_is_refused(station: Station) -> None:
    with pytest.raises(RemoteProtocolError):
        await station.send(handle, "ReservationStatusUpdate", dict(REQUEST, reservationId=2**31))
    assert await station.reports.reservation_update("CP-1", 2**31) is None
