"""Log and diagnostics uploads: ask a charger for its log (1.6 GetDiagnostics, GetLog DiagnosticsLog or
SecurityLog) pointed at an upload URL this server hosts, take the upload, track its status, keep the files
within the retention. The REST API (``adapters/http_logs.py``) and ``chargewise logs`` call it.

The URL is ``<base_url>/uploads/<token>`` with a per-request token (``fleet.upload_tokens``) that expires after
``valid_for``; a charger may append a file name (1.6 locations are directories). Record rules:
``fleet.log_requests``.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Clock
from chargewise.fleet.log_requests import LogKind, LogRequest, StoredFile, changed, stored
from chargewise.fleet.retention import Kept, Retention, to_delete
from chargewise.fleet.upload_tokens import BadToken, sign, verify
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.connections import CallOutcome

log = logging.getLogger(__name__)
Call = Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
KIND_FIX = "give --kind diagnostics or --kind security"


class Upload(Protocol):
    size: int

    def write(self, chunk: bytes) -> None: ...

    def commit(self) -> str: ...

    def discard(self) -> None: ...


class LogArchive(Protocol):
    """Where records and files are kept (``adapters.log_files.FileLogArchive``)."""

    def put(self, record: LogRequest) -> None: ...

    def get(self, log_id: str) -> LogRequest | None: ...

    def records(self) -> list[LogRequest]: ...

    def open_upload(self, log_id: str, limit: int) -> Upload: ...

    def file(self, log_id: str) -> Path | None: ...

    def delete(self, log_id: str) -> None: ...


def parse_kind(text: str) -> LogKind:
    try:
        return LogKind(text)
    except ValueError:
        raise InvalidRequest(f"kind {text[:40]!r} is not diagnostics or security", fix=KIND_FIX) from None


def command(version: OcppVersion, kind: LogKind, url: str, request_id: int) -> tuple[str, dict[str, Any]]:
    """The OCPP command that asks for ``kind`` in ``version``."""
    if version is OcppVersion.V16 and kind is LogKind.DIAGNOSTICS:
        return "GetDiagnostics", {"location": url, "retries": 2, "retryInterval": 30}
    log_type = "DiagnosticsLog" if kind is LogKind.DIAGNOSTICS else "SecurityLog"
    return "GetLog", {"logType": log_type, "requestId": request_id, "log": {"remoteLocation": url},
                      "retries": 2, "retryInterval": 30}  # fmt: skip


class LogUploads:
    """Build one per server in ``bootstrap``: ``call`` is ``Registry.call``, ``version_of`` tells a connected
    charger's OCPP version (None: not connected), ``key`` signs upload URLs, ``base_url`` is where chargers
    reach this server's HTTP port."""

    def __init__(self, *, archive: LogArchive, call: Call, version_of: Callable[[str], OcppVersion | None],
                 clock: Clock, key: bytes, base_url: str, retention: Retention | None = None,
                 valid_for: timedelta = timedelta(hours=1)) -> None:  # fmt: skip
        self.archive = archive
        self._call = call
        self._version_of = version_of
        self.clock = clock
        self._key = key
        self.base_url = base_url.rstrip("/")
        self.retention = retention or Retention()
        self.valid_for = valid_for

    # ------------------------------------------------------------------ asking
    async def request(self, charger_id: str, kind: LogKind) -> LogRequest:
        """Send the command; the record says what the charger answered. Raises ``ChargerOffline`` and the
        other ``Registry.call`` errors (the record then ends ``NotSent``)."""
        version = self._version_of(charger_id)
        now = self.clock.now()
        expires = now + self.valid_for
        record_id = secrets.token_hex(8)
        url = f"{self.base_url}/uploads/{sign(self._key, record_id, expires)}"
        action, payload = command(version or OcppVersion.V16, kind, url, secrets.randbelow(2**31 - 1) + 1)
        record = LogRequest(id=record_id, charger_id=charger_id, kind=kind, request_id=payload.get("requestId", 0),
                            action=action, requested_at=now, expires_at=expires, status_at=now)  # fmt: skip
        self.archive.put(record)  # rule 1: before the command, so an upload racing its answer finds it
        self.prune()
        try:
            outcome = await self._call(charger_id, action, payload)
        except Exception:
            self._update(record.id, lambda r: changed(r, "NotSent", self.clock.now()))
            raise
        return self._update(record.id, lambda r: _answered(r, outcome, self.clock.now()))

    # ------------------------------------------------------------------ what chargers send
    def status(self, charger_id: str, status: str, request_id: int | None) -> LogRequest | None:
        """A DiagnosticsStatusNotification (``request_id`` None: the charger's latest GetDiagnostics) or a
        LogStatusNotification; None if no request of ours matches (logged, acknowledged anyway)."""
        mine = [r for r in self.archive.records() if r.charger_id == charger_id]
        if request_id is None:
            found = next((r for r in mine if r.action == "GetDiagnostics"), None)
        else:
            found = next((r for r in mine if r.action == "GetLog" and r.request_id == request_id), None)
        if found is None:
            log.info("%s reported log status %s for no request of ours (requestId %s)", charger_id, status, request_id)
            return None
        return self._update(found.id, lambda r: changed(r, status, self.clock.now()))

    async def receive(self, token: str, name: str | None, chunks: AsyncIterator[bytes]) -> LogRequest:
        """Store an upload; raises ``BadToken`` (403), ``NotFound`` (the request was pruned) or
        ``UploadTooLarge`` (413; nothing kept)."""
        grant = verify(self._key, token, self.clock.now())
        record = self.archive.get(grant.upload_id)
        if record is None:
            raise NotFound("no such log request (deleted by the retention?)", fix="request the log again")
        upload = self.archive.open_upload(record.id, self.retention.max_bytes)
        try:
            async for chunk in chunks:
                upload.write(chunk)
        except BaseException:
            upload.discard()
            raise
        digest = upload.commit()
        file = StoredFile(name=safe_name(name, record), size=upload.size, sha256=digest, received_at=self.clock.now())
        return self._update(record.id, lambda r: stored(r, file))

    # ------------------------------------------------------------------ reading
    def requests(self, charger_id: str | None = None) -> list[LogRequest]:
        """Newest first."""
        return [r for r in self.archive.records() if charger_id is None or r.charger_id == charger_id]

    def get(self, log_id: str) -> LogRequest:
        record = self.archive.get(log_id) if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", log_id) else None
        if record is None:
            raise NotFound(f"no log {log_id[:40]!r}", fix="list the logs to see their ids")
        return record

    def file(self, log_id: str) -> tuple[LogRequest, Path]:
        record = self.get(log_id)
        path = self.archive.file(log_id)
        if path is None or record.file is None:
            raise NotFound(f"log {log_id} has no file yet (status {record.status})",
                           fix="wait for the charger to upload it (status Uploaded)")  # fmt: skip
        return record, path

    def prune(self) -> list[str]:
        """Apply the retention; returns the ids deleted."""
        records = self.archive.records()
        gone = to_delete([Kept(id=r.id, at=r.requested_at) for r in records], self.retention, self.clock.now())
        for log_id in gone:
            self.archive.delete(log_id)
        return gone

    def _update(self, log_id: str, change: Callable[[LogRequest], LogRequest]) -> LogRequest:
        current = self.archive.get(log_id)
        if current is None:
            raise NotFound(f"no log {log_id}", fix="request the log again")
        updated = change(current)
        self.archive.put(updated)
        return updated


def _answered(record: LogRequest, outcome: CallOutcome, now: datetime) -> LogRequest:
    if not outcome.ok:
        return changed(record, "Failed", now)
    answer = outcome.payload or {}
    name = answer.get("fileName") if record.action == "GetDiagnostics" else answer.get("filename")
    record = replace(record, charger_filename=name if isinstance(name, str) else None)
    if record.status != "Requested":  # the charger reported Uploading (or more) before its answer was handled
        return replace(record, history=changed(record, "Answered", now).history)
    if record.action == "GetDiagnostics":  # 1.6: an empty answer means there is nothing to upload
        return changed(record, "Accepted" if name else "Rejected", now)
    return changed(record, str(answer.get("status", "Rejected")), now)


def safe_name(name: str | None, record: LogRequest) -> str:
    """A file name to show and download with: the charger's (percent-decoded), without path or odd characters."""
    base = unquote(name or record.charger_filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip("._")[:120]
    return cleaned or f"{record.charger_id}-{record.kind.value}-{record.id}.log"


__all__ = ["BadToken", "LogArchive", "LogKind", "LogRequest", "LogUploads", "parse_kind"]
