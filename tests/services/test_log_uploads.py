"""LogUploads against a fake charger link and the real file archive in a temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chargewise.adapters.log_files import FileLogArchive, UploadTooLarge
from chargewise.domain.model import OcppVersion
from chargewise.fleet.log_requests import LogKind
from chargewise.fleet.retention import Retention
from chargewise.fleet.upload_tokens import BadToken
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.connections import CallOutcome, ChargerOffline
from chargewise.services.log_uploads import LogUploads, parse_kind, safe_name

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at


class Charger:
    def __init__(self, answer: dict[str, Any], *, online: bool = True) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.answer, self.online = answer, online

    async def call(self, charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome:
        if not self.online:
            raise ChargerOffline(charger_id)
        self.sent.append((charger_id, action, payload))
        return CallOutcome(action=action, payload=self.answer)


def service(tmp_path: Path, charger: Charger, version: OcppVersion, **kwargs: Any) -> tuple[LogUploads, Clock]:
    clock = Clock()
    logs = LogUploads(archive=FileLogArchive(tmp_path / "logs"), call=charger.call, version_of=lambda _: version,
                      clock=clock, key=b"k" * 32, base_url="http://csms.example:8080/", **kwargs)  # fmt: skip
    return logs, clock


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def token_of(url: str) -> str:
    return url.rsplit("/uploads/", 1)[1]


async def test_16_diagnostics_go_through_get_diagnostics_and_its_status_without_request_id(tmp_path: Path) -> None:
    charger = Charger({"fileName": "diag.log"})
    logs, _ = service(tmp_path, charger, OcppVersion.V16)
    record = await logs.request("C1", LogKind.DIAGNOSTICS)
    [(_, action, payload)] = charger.sent
    assert action == "GetDiagnostics" and payload["location"].startswith("http://csms.example:8080/uploads/")
    assert record.status == "Accepted" and record.charger_filename == "diag.log"
    logs.status("C1", "Uploading", None)
    done = await logs.receive(token_of(payload["location"]), "diag.log", chunks(b"line 1\n", b"line 2\n"))
    assert done.file is not None and done.file.size == 14 and done.file.name == "diag.log"
    assert logs.status("C1", "Uploaded", None) is not None
    record, path = logs.file(record.id)
    assert record.status == "Uploaded" and path.read_bytes() == b"line 1\nline 2\n"


async def test_201_security_log_is_matched_by_its_request_id(tmp_path: Path) -> None:
    charger = Charger({"status": "Accepted", "filename": "sec.log"})
    logs, _ = service(tmp_path, charger, OcppVersion.V201)
    record = await logs.request("C2", LogKind.SECURITY)
    [(_, action, payload)] = charger.sent
    assert action == "GetLog" and payload["logType"] == "SecurityLog" and payload["requestId"] == record.request_id
    assert logs.status("C2", "Uploading", record.request_id + 1) is None  # not ours
    assert logs.status("C2", "UploadFailure", record.request_id) is not None
    assert logs.get(record.id).status == "UploadFailed"


async def test_an_expired_url_a_too_large_body_and_a_charger_offline(tmp_path: Path) -> None:
    charger = Charger({"status": "Accepted"})
    logs, clock = service(tmp_path, charger, OcppVersion.V201, retention=Retention(max_bytes=10))
    record = await logs.request("C3", LogKind.DIAGNOSTICS)
    token = token_of(charger.sent[0][2]["log"]["remoteLocation"])
    with pytest.raises(UploadTooLarge):
        await logs.receive(token, "x", chunks(b"123456", b"789012"))
    assert list((tmp_path / "logs").iterdir()) == [tmp_path / "logs" / f"{record.id}.json"]  # no partial file
    clock.at = NOW + timedelta(hours=1)
    with pytest.raises(BadToken, match="expired"):
        await logs.receive(token, "x", chunks(b"1"))
    charger.online = False
    with pytest.raises(ChargerOffline):
        await logs.request("C3", LogKind.DIAGNOSTICS)
    assert logs.requests("C3")[0].status == "NotSent"


async def test_retention_prunes_by_count_and_a_pruned_request_takes_no_upload(tmp_path: Path) -> None:
    charger = Charger({"status": "Accepted"})
    logs, clock = service(tmp_path, charger, OcppVersion.V201, retention=Retention(count=2))
    for minute in range(3):
        clock.at = NOW + timedelta(minutes=minute)
        await logs.request("C4", LogKind.DIAGNOSTICS)
    logs.prune()
    assert len(logs.requests()) == 2
    first = token_of(charger.sent[0][2]["log"]["remoteLocation"])
    with pytest.raises(NotFound, match="retention"):
        await logs.receive(first, None, chunks(b"late"))


def test_bad_kind_and_unsafe_names() -> None:
    with pytest.raises(InvalidRequest, match="diagnostics or security"):
        parse_kind("everything")
    from chargewise.fleet.log_requests import LogRequest

    r = LogRequest(id="i", charger_id="C", kind=LogKind.DIAGNOSTICS, request_id=0, action="GetDiagnostics",
                   requested_at=NOW, expires_at=NOW)  # fmt: skip
    assert safe_name("../../etc/passwd", r) == "passwd"
    assert safe_name(None, r) == "C-diagnostics-i.log"
