"""Issue 10, point 5: a real 2.0.1 client (the `ocpp` package's) sends each report the CSMS can cause and gets
a CallResult, and what needs keeping is in the database afterwards (SQLite and PostgreSQL)."""

from __future__ import annotations

from ocpp.charge_point import camel_to_snake_case
from ocpp.v201 import call

from chargewise.domain.reports import LimitSource, ReportKind
from tests.conftest import RunningServer
from tests.e2e.ocpp_clients import connect
from tests.handlers.v201.reports_cases import REQUESTS


async def test_every_report_gets_a_call_result_and_is_kept(any_db_server: RunningServer) -> None:
    server = any_db_server
    async with connect(server.ocpp_url, "REP201", "2.0.1") as cp:
        boot = await cp.call(call.BootNotification(charging_station={"model": "M", "vendor_name": "V"},
                                                   reason="PowerUp"))  # fmt: skip
        assert boot.status == "Accepted"
        # the limit first, so that ClearedChargingLimit (in REQUESTS order) finds one to clear
        answers = {}
        for action, payload in REQUESTS.items():
            # suppress=False: a CallError (today: NotSupported) raises instead of coming back as None
            answers[action] = await cp.call(getattr(call, action)(**camel_to_snake_case(payload)), suppress=False)
        extra = {"evse_id": 2, "charging_limit": {"charging_limit_source": "EMS"}}
        await cp.call(call.NotifyChargingLimit(**extra), suppress=False)

    assert answers["NotifyEVChargingNeeds"].status == "Rejected"
    assert answers["NotifyEVChargingSchedule"].status == "Accepted"
    reports = server.app.central.reports
    [limit] = await reports.store.charging_limits("REP201")  # evse 1's SO limit was cleared
    assert (limit.evse_id, limit.source) == (2, LimitSource.EMS)
    needs = await reports.store.ev_charging_needs("REP201", 1)
    assert needs is not None and needs.energy_wh == 30000.0 and needs.max_current_a == 32.0
    assert await reports.store.ev_charging_schedule("REP201", 1) is not None
    for kind, request_id in [(ReportKind.CHARGING_PROFILES, 11), (ReportKind.MONITORING, 12),
                             (ReportKind.CUSTOMER_INFORMATION, 13), (ReportKind.DISPLAY_MESSAGES, 14)]:  # fmt: skip
        report = await reports.report("REP201", kind, request_id)
        assert report is not None and report.complete, kind
    publication = await reports.store.firmware_publication("REP201")
    assert publication is not None and publication.locations == ("http://lc.local/fw.bin",)
    reservation = await reports.store.reservation_update("REP201", 16)
    assert reservation is not None and reservation.status == "Expired"
