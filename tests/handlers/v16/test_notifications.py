from __future__ import annotations

from typing import Any

import pytest

from chargewise.handlers.v16.notifications import handle
from tests.handlers.station import Station

REPORTS: list[tuple[str, dict[str, Any]]] = [
    ("FirmwareStatusNotification", {"status": "Installed"}),
    ("DiagnosticsStatusNotification", {"status": "Uploaded"}),
    ("SecurityEventNotification", {"type": "StartupOfTheDevice", "timestamp": "2024-05-01T12:00:00Z"}),
    ("LogStatusNotification", {"status": "Uploaded", "requestId": 7}),
    ("SignedFirmwareStatusNotification", {"status": "SignatureVerified", "requestId": 3}),
]


@pytest.mark.parametrize(("action", "payload"), REPORTS, ids=[action for action, _ in REPORTS])
async def test_reports_get_an_empty_answer_and_store_nothing(
    station: Station, action: str, payload: dict[str, Any]
) -> None:
    before = await station.charger()
    assert await station.send(handle, action, payload) == {}
    assert await station.charger() == before
    assert await station.store.list_transactions() == []
