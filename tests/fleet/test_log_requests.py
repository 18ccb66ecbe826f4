from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargewise.fleet.log_requests import LogKind, LogRequest, changed

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
REQUEST = LogRequest(id="x", charger_id="C", kind=LogKind.DIAGNOSTICS, request_id=0, action="GetDiagnostics",
                     requested_at=NOW, expires_at=NOW + timedelta(hours=1))  # fmt: skip


def test_statuses_move_on_and_idle_never_replaces_a_final_one() -> None:
    r = changed(changed(REQUEST, "Uploading", NOW), "UploadFailure", NOW)  # the 2.0.1 name
    assert r.status == "UploadFailed"
    after = changed(r, "Idle", NOW + timedelta(minutes=5))
    assert after.status == "UploadFailed" and [h.status for h in after.history] == ["Uploading", "UploadFailed",
                                                                                     "Idle"]  # fmt: skip
    assert changed(REQUEST, "Idle", NOW).status == "Idle"  # not final yet: Idle is news
