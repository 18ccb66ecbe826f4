from __future__ import annotations

from datetime import timedelta

from chargewise.domain.model import TokenStatus
from chargewise.handlers.v201.id_token_info import id_token_info
from chargewise.services.central import Authorization
from tests.domain.clock import T0


def test_status_only() -> None:
    assert id_token_info(Authorization(status=TokenStatus.INVALID)) == {"status": "Invalid"}


def test_expiry_becomes_cache_expiry_and_parent_a_group_token() -> None:
    auth = Authorization(status=TokenStatus.ACCEPTED, expires_at=T0 + timedelta(days=1), parent_id_tag="FLEET")
    assert id_token_info(auth) == {
        "status": "Accepted",
        "cacheExpiryDateTime": "2024-05-02T12:00:00.000Z",
        "groupIdToken": {"idToken": "FLEET", "type": "Central"},
    }
