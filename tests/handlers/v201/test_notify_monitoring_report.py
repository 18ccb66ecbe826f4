from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargewise.domain.reports import Monitor, ReportKind
from chargewise.handlers.v201.notify_monitoring_report import handle
from chargewise.ocpp.errors import RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import MONITOR, REQUESTS

REQUEST = REQUESTS["NotifyMonitoringReport"]
KIND = ReportKind.MONITORING


async def test_monitors_are_kept_as_a_report_in_seq_no_order(station: Station) -> None:
    second = dict(REQUEST, seqNo=1, tbc=False, monitor=[dict(MONITOR, component={"name": "OCPPCommCtrlr"})])
    assert await station.send(handle, "NotifyMonitoringReport", dict(REQUEST, tbc=True)) == {}
    report = await station.reports.report("CP-1", KIND, 12)
    assert report is not None and not report.complete
    assert await station.send(handle, "NotifyMonitoringReport", second) == {}
    report = await station.reports.report("CP-1", KIND, 12)
    assert report is not None and report.complete
    assert report.parts[0].generated_at == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert report.monitors[0] == Monitor(component="EVSE", component_instance="main", evse_id=1, variable="Power",
                                         id=4, type="UpperThreshold", value=22000.0, severity=7, transaction=False)  # fmt: skip
    assert [(m.component, m.id) for m in report.monitors] == [("EVSE", 4), ("EVSE", 5), ("OCPPCommCtrlr", 4),
                                                              ("OCPPCommCtrlr", 5)]  # fmt: skip


async def test_a_retried_part_replaces_itself_and_part_0_starts_the_report_over(station: Station) -> None:
    await station.send(handle, "NotifyMonitoringReport", dict(REQUEST, tbc=True))
    await station.send(handle, "NotifyMonitoringReport", dict(REQUEST, seqNo=1, tbc=True))
    await station.send(handle, "NotifyMonitoringReport", dict(REQUEST, seqNo=1, tbc=True))
    report = await station.reports.report("CP-1", KIND, 12)
    assert report is not None and [p.seq_no for p in report.parts] == [0, 1]
    no_monitors = {key: value for key, value in REQUEST.items() if key != "monitor"}
    await station.send(handle, "NotifyMonitoringReport", no_monitors)  # a new GetMonitoringReport
    report = await station.reports.report("CP-1", KIND, 12)
    assert report is not None and report.complete and report.monitors == ()


async def test_a_report_missing_a_part_is_not_complete(station: Station) -> None:
    await station.send(handle, "NotifyMonitoringReport", dict(REQUEST, seqNo=1, tbc=False))
    report = await station.reports.report("CP-1", KIND, 12)
    assert report is not None and not report.complete


def _setting(**changes: object) -> dict[str, object]:
    return dict(
        REQUEST, monitor=[dict(MONITOR, variableMonitoring=[dict(MONITOR["variableMonitoring"][0], **changes)])]
    )


@pytest.mark.parametrize("request_", [
    dict(REQUEST, seqNo=-1), dict(REQUEST, seqNo=2**31), dict(REQUEST, generatedAt="0001-01-01T00:00:00+01:00"),
    _setting(severity=10), _setting(id=-1), _setting(value=1e300),
], ids=["negative seqNo", "seqNo beyond int32", "generatedAt beyond UTC", "severity 10", "negative id", "huge value"])  # fmt: skip
async def test_a_bad_part_is_refused_and_not_kept(station: Station, request_: dict[str, object]) -> None:
    with pytest.raises(RemoteProtocolError):
        await station.send(handle, "NotifyMonitoringReport", request_)
    assert await station.reports.report("CP-1", KIND, 12) is None
