from __future__ import annotations

from datetime import timedelta

import pytest

from chargewise.domain.model import IdToken, OcppVersion, TokenStatus
from chargewise.handlers.v201.authorize import handle
from chargewise.services.central import Policy
from tests.domain.clock import T0
from tests.handlers.station import Station, open_station


def authorize(token: str) -> dict[str, object]:
    return {"idToken": {"idToken": token, "type": "ISO14443"}}


async def test_unknown_token_is_invalid(station: Station) -> None:
    assert await station.send(handle, "Authorize", authorize("NOBODY")) == {"idTokenInfo": {"status": "Invalid"}}


async def test_known_token_with_expiry_and_group(station: Station) -> None:
    token = IdToken(id_tag="04A2B3C4D5E6F7", expires_at=T0 + timedelta(hours=1), parent_id_tag="FLEET")
    await station.central.add_token(token)
    assert await station.send(handle, "Authorize", authorize("04A2B3C4D5E6F7")) == {
        "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2024-05-01T13:00:00.000Z",
                        "groupIdToken": {"idToken": "FLEET", "type": "Central"}},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("token", "status"),
    [(IdToken(id_tag="T", status=TokenStatus.BLOCKED), "Blocked"), (IdToken(id_tag="T", expires_at=T0), "Expired")],
)
async def test_refused_tokens(station: Station, token: IdToken, status: str) -> None:
    await station.central.add_token(token)
    assert (await station.send(handle, "Authorize", authorize("T")))["idTokenInfo"]["status"] == status


async def test_free_charging() -> None:
    station = await open_station(OcppVersion.V201, policy=Policy(free_charging=True))
    assert await station.send(handle, "Authorize", authorize("ANY")) == {"idTokenInfo": {"status": "Accepted"}}
