from __future__ import annotations

from chargewise.handlers.v201.data_transfer import handle
from tests.handlers.station import Station


async def test_no_vendor_is_known_yet(station: Station) -> None:
    payload = {"vendorId": "com.elektra", "messageId": "Diag", "data": {"temp": 41}}
    assert await station.send(handle, "DataTransfer", payload) == {"status": "UnknownVendorId"}
