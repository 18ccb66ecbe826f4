"""``FileLogArchive``: log upload records and their files in ``<data_dir>/logs/`` (the ``LogArchive`` port).

Each request is ``<id>.json`` (its ``LogRequest`` as JSON) and, once uploaded, ``<id>.data`` (the bytes as the
charger sent them). Writes go to a temporary file renamed into place, so a reader (the CLI, another process)
sees a whole record or the previous one, and an interrupted upload leaves no partial file behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

import msgspec

from chargewise.fleet.log_requests import LogRequest

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class UploadTooLarge(Exception):
    """The body went past the size limit; nothing was kept."""


class FileUpload:
    """One upload being written: :meth:`write` chunks, then :meth:`commit` or :meth:`discard`."""

    def __init__(self, final: Path, limit: int) -> None:
        self._final = final
        self._temporary = final.with_name(f".{final.name}.{secrets.token_hex(4)}.part")
        self._out: BinaryIO = self._temporary.open("wb")
        self._limit = limit
        self.size = 0
        self._digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        """Raises :class:`UploadTooLarge` (and discards) once past the limit."""
        self.size += len(chunk)
        if self.size > self._limit:
            self.discard()
            raise UploadTooLarge(f"upload larger than {self._limit} bytes")
        self._digest.update(chunk)
        self._out.write(chunk)

    def commit(self) -> str:
        """Move the file into place; returns its SHA-256 (hex)."""
        self._out.close()
        os.replace(self._temporary, self._final)
        return self._digest.hexdigest()

    def discard(self) -> None:
        self._out.close()
        self._temporary.unlink(missing_ok=True)


class FileLogArchive:
    """Records and files under ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, log_id: str, suffix: str) -> Path:
        if not _ID.fullmatch(log_id):
            raise KeyError(log_id)
        return self.root / f"{log_id}{suffix}"

    def put(self, record: LogRequest) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(record.id, ".json")
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        temporary.write_bytes(msgspec.json.encode(record))
        os.replace(temporary, path)

    def get(self, log_id: str) -> LogRequest | None:
        try:
            return msgspec.json.decode(self._path(log_id, ".json").read_bytes(), type=LogRequest)
        except (KeyError, FileNotFoundError, msgspec.DecodeError, msgspec.ValidationError):
            return None

    def records(self) -> list[LogRequest]:
        """Every record, newest request first (unreadable files are skipped)."""
        if not self.root.is_dir():
            return []
        found = [self.get(p.stem) for p in self.root.glob("*.json") if not p.name.startswith(".")]
        return sorted((r for r in found if r is not None), key=lambda r: (r.requested_at, r.id), reverse=True)

    def open_upload(self, log_id: str, limit: int) -> FileUpload:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileUpload(self._path(log_id, ".data"), limit)

    def file(self, log_id: str) -> Path | None:
        path = self._path(log_id, ".data")
        return path if path.is_file() else None

    def delete(self, log_id: str) -> None:
        for suffix in (".data", ".json"):
            self._path(log_id, suffix).unlink(missing_ok=True)
