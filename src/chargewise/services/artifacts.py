"""Firmware artifacts as use cases: add an image (checked, stored, recorded), list, show, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from chargewise.domain.ports import Clock
from chargewise.firmware.artifacts import Artifact, new_artifact
from chargewise.firmware.errors import FirmwareError
from chargewise.firmware.store import DownloadRecord, FirmwareStore


class Images(Protocol):
    """Where image bytes are kept (``adapters/firmware_files.ImageFiles``)."""

    def save(self, source: Path | bytes) -> tuple[str, int, Path]: ...

    def keep(self, incoming: Path, artifact_id: str) -> Path: ...

    def discard(self, incoming: Path) -> None: ...

    def remove(self, artifact_id: str) -> None: ...


class Artifacts:
    def __init__(self, *, store: FirmwareStore, files: Images, clock: Clock) -> None:
        self.store = store
        self.files = files
        self.clock = clock

    async def add(
        self,
        source: Path | bytes,
        *,
        filename: str,
        version: str,
        vendor: str | None = None,
        model: str | None = None,
        signature: str | None = None,
        signing_certificate: str | None = None,
        expected_sha256: str | None = None,
    ) -> Artifact:
        """Store the image and its record; :class:`FirmwareError` (nothing kept) if any of it is wrong."""
        try:
            sha256, size, incoming = self.files.save(source)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise FirmwareError("FILE", f"cannot read {filename}: {why}", "give a readable file") from None
        try:
            artifact = new_artifact(
                sha256=sha256, size=size, version=version, filename=filename, added_at=self.clock.now(),
                vendor=vendor, model=model, signature=signature, signing_certificate=signing_certificate,
                expected_sha256=expected_sha256,
            )  # fmt: skip
            known = await self.store.artifact(artifact.id)
            if known is not None and known.version != artifact.version:
                raise FirmwareError("--version", f"this image was added already as version {known.version}",
                                    f"delete artifact {known.id} first to add it as {artifact.version}")  # fmt: skip
        except BaseException:
            self.files.discard(incoming)
            raise
        self.files.keep(incoming, artifact.id)
        await self.store.put_artifact(artifact)
        return artifact

    async def all(self) -> list[Artifact]:
        return await self.store.artifacts()

    async def get(self, artifact_id: str) -> Artifact:
        artifact = await self.store.artifact(artifact_id)
        if artifact is None:
            raise FirmwareError("ID", f"no artifact {artifact_id[:20]!r}", "see `chargewise firmware list`")
        return artifact

    async def delete(self, artifact_id: str) -> Artifact:
        artifact = await self.get(artifact_id)
        await self.store.remove_artifact(artifact_id)
        self.files.remove(artifact_id)
        return artifact

    async def downloads(self, artifact_id: str) -> list[DownloadRecord]:
        return await self.store.downloads(artifact_id)
