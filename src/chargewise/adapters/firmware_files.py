"""Firmware images on disk: ``<data_dir>/firmware/<artifact id>.bin``, and the key download links are signed
with (``<data_dir>/firmware/link-key``, made once, readable by the owner only)."""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from pathlib import Path

CHUNK = 1024 * 1024


class ImageFiles:
    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / "firmware"

    def path(self, artifact_id: str) -> Path:
        return self.directory / f"{artifact_id}.bin"

    def save(self, source: Path | bytes) -> tuple[str, int, Path]:
        """Copy an image in (a file, or bytes from an upload): its SHA-256, size and temporary path; call
        :meth:`keep` with the artifact id to put it in place, or :meth:`discard`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out:
            if isinstance(source, bytes):
                digest.update(source)
                out.write(source)
                size = len(source)
            else:
                with source.open("rb") as image:
                    while chunk := image.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        return digest.hexdigest(), size, Path(name)

    def keep(self, incoming: Path, artifact_id: str) -> Path:
        final = self.path(artifact_id)
        incoming.replace(final)
        return final

    def discard(self, incoming: Path) -> None:
        incoming.unlink(missing_ok=True)

    def remove(self, artifact_id: str) -> None:
        self.path(artifact_id).unlink(missing_ok=True)

    def link_key(self) -> bytes:
        """The HMAC key of download links, made on first use."""
        path = self.directory / "link-key"
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
        return bytes.fromhex(path.read_text().strip())
