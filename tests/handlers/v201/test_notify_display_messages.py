from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargewise.domain.reports import DisplayMessage, ReportKind
from chargewise.handlers.v201.notify_display_messages import handle
from chargewise.ocpp.errors import RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import MESSAGE, REQUESTS

REQUEST = REQUESTS["NotifyDisplayMessages"]


async def test_messages_are_kept_compactly_as_a_report(station: Station) -> None:
    assert await station.send(handle, "NotifyDisplayMessages", dict(REQUEST, tbc=True)) == {}
    assert await station.send(handle, "NotifyDisplayMessages", {"requestId": 14}) == {}  # no more messages
    report = await station.reports.report("CP-1", ReportKind.DISPLAY_MESSAGES, 14)
    assert report is not None and report.complete
    assert report.messages == (DisplayMessage(id=2, priority="InFront", state="Idle", content="Welcome", format="UTF8",
                                              language="en", start=datetime(2026, 12, 1, 12, 0, tzinfo=UTC)),)  # fmt: skip


async def test_a_bad_message_is_refused(station: Station) -> None:
    with pytest.raises(RemoteProtocolError):
        await station.send(handle, "NotifyDisplayMessages", dict(REQUEST, messageInfo=[dict(MESSAGE, id=-1)]))
    assert await station.reports.report("CP-1", ReportKind.DISPLAY_MESSAGES, 14) is None
