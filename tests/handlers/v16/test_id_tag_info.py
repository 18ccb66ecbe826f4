from __future__ import annotations

from datetime import timedelta

from chargewise.domain.model import TokenStatus
from chargewise.handlers.v16.id_tag_info import id_tag_info
from chargewise.services.central import Authorization
from tests.domain.clock import T0


def test_status_only() -> None:
    assert id_tag_info(Authorization(status=TokenStatus.BLOCKED)) == {"status": "Blocked"}


def test_expiry_and_parent() -> None:
    auth = Authorization(status=TokenStatus.ACCEPTED, expires_at=T0 + timedelta(days=30), parent_id_tag="FLEET")
    assert id_tag_info(auth) == {"status": "Accepted", "expiryDate": "2024-05-31T12:00:00.000Z", "parentIdTag": "FLEET"}
