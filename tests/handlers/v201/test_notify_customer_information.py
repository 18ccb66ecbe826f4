from __future__ import annotations

import logging

import pytest

from chargewise.domain.reports import ReportKind
from chargewise.handlers.v201.notify_customer_information import handle
from chargewise.ocpp.errors import RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import REQUESTS

REQUEST = REQUESTS["NotifyCustomerInformation"]
KIND = ReportKind.CUSTOMER_INFORMATION


async def test_the_data_is_kept_for_the_operator_in_order_and_never_logged(
    station: Station, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await station.send(handle, "NotifyCustomerInformation", dict(REQUEST, tbc=True)) == {}
    await station.send(handle, "NotifyCustomerInformation", dict(REQUEST, seqNo=1, data=" and 2 tokens", tbc=False))
    report = await station.reports.report("CP-1", KIND, 13)
    assert report is not None and report.complete
    assert report.data == "idToken 04A1B2C3: 3 sessions and 2 tokens"
    assert "04A1B2C3" not in caplog.text


async def test_a_bad_seq_no_is_refused(station: Station) -> None:
    with pytest.raises(RemoteProtocolError):
        await station.send(handle, "NotifyCustomerInformation", dict(REQUEST, seqNo=-1))
    assert await station.reports.report("CP-1", KIND, 13) is None


async def test_a_report_beyond_the_quota_gets_a_call_error_and_the_parts_that_fit_stay(station: Station) -> None:
    station.central.reports.quota = 2_500
    parts = [dict(REQUEST, seqNo=n, tbc=True, data="x" * 500) for n in range(4)]
    for request in parts[:3]:
        assert await station.send(handle, "NotifyCustomerInformation", request) == {}
    with pytest.raises(RemoteProtocolError, match="report 13 exceeds the 2,500 characters"):
        await station.send(handle, "NotifyCustomerInformation", parts[3])
    report = await station.reports.report("CP-1", KIND, 13)
    assert report is not None and len(report.parts) == 3
