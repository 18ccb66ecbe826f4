"""``chargewise logs``: bad input is one line with the fix; list and get read the data directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargewise.adapters.log_files import FileLogArchive
from chargewise.fleet.log_requests import LogKind, LogRequest, StoredFile
from tests.test_cli_authorization import one_line, run

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_bad_kind_unknown_log_and_no_server_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path)
    one_line(*run(capsys, "logs", "request", "C1", "--kind", "everything", "--data-dir", data), "--kind",
             "diagnostics or security")  # fmt: skip
    one_line(*run(capsys, "logs", "get", "nope", "-o", str(tmp_path / "x"), "--data-dir", data), "no such log",
             "logs list")  # fmt: skip
    one_line(*run(capsys, "logs", "request", "C1", "--server", "http://127.0.0.1:9", "--data-dir", data),
             "cannot reach the server")  # fmt: skip
    one_line(*run(capsys, "logs", "get", "x"), "-o")


def test_list_and_get_read_the_data_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = FileLogArchive(tmp_path / "logs")
    upload = archive.open_upload("abc123", 1000)
    upload.write(b"hello log\n")
    digest = upload.commit()
    archive.put(LogRequest(id="abc123", charger_id="C9", kind=LogKind.SECURITY, request_id=7, action="GetLog",
                           requested_at=NOW, expires_at=NOW + timedelta(hours=1), status="Uploaded",
                           file=StoredFile(name="sec.log", size=10, sha256=digest, received_at=NOW)))  # fmt: skip
    from chargewise.cli import main

    assert main(["logs", "list", "--json", "--data-dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out
    assert '"charger_id": "C9"' in listed and '"download": "/api/v1/logs/abc123/file"' in listed
    out = tmp_path / "copy.log"
    assert main(["logs", "get", "abc123", "-o", str(out), "--data-dir", str(tmp_path)]) == 0
    assert out.read_bytes() == b"hello log\n"
