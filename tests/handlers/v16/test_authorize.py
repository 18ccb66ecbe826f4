from __future__ import annotations

from datetime import timedelta

from chargewise.domain.model import IdToken, OcppVersion, TokenStatus
from chargewise.handlers.v16.authorize import handle
from chargewise.services.central import Policy
from tests.domain.clock import T0
from tests.handlers.station import Station, open_station


async def test_unknown_tag_is_invalid(station: Station) -> None:
    assert await station.send(handle, "Authorize", {"idTag": "NOBODY"}) == {"idTagInfo": {"status": "Invalid"}}


async def test_known_tag_with_expiry_and_parent(station: Station) -> None:
    token = IdToken(id_tag="FLEET-7", expires_at=T0 + timedelta(hours=2), parent_id_tag="FLEET")
    await station.central.add_token(token)
    answer = await station.send(handle, "Authorize", {"idTag": "FLEET-7"})
    assert answer == {
        "idTagInfo": {"status": "Accepted", "expiryDate": "2024-05-01T14:00:00.000Z", "parentIdTag": "FLEET"}
    }


async def test_expired_and_blocked_tags(station: Station) -> None:
    await station.central.add_token(IdToken(id_tag="OLD", expires_at=T0 - timedelta(seconds=1)))
    await station.central.add_token(IdToken(id_tag="LOST", status=TokenStatus.BLOCKED))
    expired = await station.send(handle, "Authorize", {"idTag": "OLD"})
    assert expired == {"idTagInfo": {"status": "Expired", "expiryDate": "2024-05-01T11:59:59.000Z"}}
    assert await station.send(handle, "Authorize", {"idTag": "LOST"}) == {"idTagInfo": {"status": "Blocked"}}


async def test_free_charging_accepts_any_tag_and_stores_nothing() -> None:
    station = await open_station(OcppVersion.V16, policy=Policy(free_charging=True))
    assert await station.send(handle, "Authorize", {"idTag": "ANYONE"}) == {"idTagInfo": {"status": "Accepted"}}
    assert await station.store.list_tokens() == []
