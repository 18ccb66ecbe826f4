from __future__ import annotations

from typing import Any

import pytest

from chargewise.handlers.v201.notifications import handle
from tests.handlers.station import Station

AT = "2024-05-01T12:00:00Z"
EVENT = {"eventId": 1, "timestamp": AT, "trigger": "Alerting", "actualValue": "true",
         "eventNotificationType": "HardWiredNotification", "component": {"name": "EVSE"},
         "variable": {"name": "Problem"}}  # fmt: skip
REPORTS: list[tuple[str, dict[str, Any]]] = [
    ("NotifyReport", {"requestId": 1, "generatedAt": AT, "seqNo": 0, "tbc": False}),
    ("NotifyEvent", {"generatedAt": AT, "seqNo": 0, "eventData": [EVENT]}),
    ("SecurityEventNotification", {"type": "StartupOfTheDevice", "timestamp": AT}),
    ("FirmwareStatusNotification", {"status": "Installed", "requestId": 2}),
    ("LogStatusNotification", {"status": "Uploaded", "requestId": 3}),
]


@pytest.mark.parametrize(("action", "payload"), REPORTS, ids=[action for action, _ in REPORTS])
async def test_reports_get_an_empty_answer_and_store_nothing(
    station: Station, action: str, payload: dict[str, Any]
) -> None:
    before = await station.charger()
    assert await station.send(handle, action, payload) == {}
    assert await station.charger() == before
    assert await station.store.list_transactions() == []
