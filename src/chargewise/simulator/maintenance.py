"""Firmware updates and log uploads: a small state machine the firmware steps, and helpers for their content.

A firmware job goes ``Downloading -> Downloaded -> Installing -> (reboot) -> Installed``; it ends in
``DownloadFailed`` after its retries, or ``InstallationFailed`` when the image is empty. Installing, and the
reboot after it, wait for running transactions to end. A signed job reports ``SignatureVerified`` or
``InvalidSignature`` after the download. How long the download and the install take, and how they fail,
is the template's ``ota`` and the image's own headers (``ota.py``). The new version is read from the
downloaded file's name (``.../fw-2.1.0.bin`` gives ``2.1.0``) or its first line (``version=2.1.0``), else
``<old>+<sha256 prefix>``.

A log job uploads the charger's event log as a real text file (``files.py``: HTTP POST, multipart field
``file``) and reports ``Uploading -> Uploaded``, or ``UploadFailed`` after its retries.

Every method returns :data:`Step` s for the firmware to carry out: statuses to send, effects for the driver,
a reboot into a new version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlparse

from chargewise.simulator import ota
from chargewise.simulator.clock import iso
from chargewise.simulator.ports import Download, Upload
from chargewise.simulator.templates import Ota

BUSY_RECHECK_S = 30.0  # an install waiting for a transaction to end looks again this often
_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?(?:[-+.][0-9A-Za-z]+)*)")


@dataclass(frozen=True, kw_only=True, slots=True)
class FirmwareStatus:
    status: str
    request_id: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class LogStatus:
    status: str
    request_id: int | None
    kind: str  # "diagnostics" (1.6 GetDiagnostics), "log" or "security" (GetLog)


@dataclass(frozen=True, kw_only=True, slots=True)
class RebootInto:
    """Reboot now; after the reboot the charger runs ``version`` and reports Installed."""

    version: str


Step = FirmwareStatus | LogStatus | Download | Upload | RebootInto


@dataclass(kw_only=True, slots=True)
class FirmwareJob:
    url: str
    request_id: int | None
    due: float  # when the next step runs
    retries: int
    retry_interval: float
    stage: str = "scheduled"  # scheduled, fetching, downloading, downloaded, installing, rebooting
    attempts: int = 0
    new_version: str | None = None
    signed: tuple[str, str] | None = None  # (signing certificate PEM, signature base64)
    ota: Ota = field(default_factory=Ota)
    failure: str = ""  # how this install goes wrong (ota.py), known once the image is in


@dataclass(kw_only=True, slots=True)
class LogJob:
    url: str
    request_id: int | None
    filename: str
    due: float
    retries: int
    retry_interval: float
    kind: str
    attempts: int = 0
    uploading: bool = False


class Maintenance:
    """The charger's one firmware job and one log job (a new request replaces the old one)."""

    def __init__(self) -> None:
        self.firmware: FirmwareJob | None = None
        self.log: LogJob | None = None

    def update_firmware(
        self, url: str, retrieve_at: float, retries: int, interval: float, request_id: int | None,
        *, signed: tuple[str, str] | None = None, how: Ota | None = None,
    ) -> None:  # fmt: skip
        self.firmware = FirmwareJob(url=url, request_id=request_id, due=retrieve_at, retries=retries,
                                    retry_interval=interval, signed=signed, ota=how or Ota())  # fmt: skip

    def upload_log(
        self, charger_id: str, url: str, request_id: int | None, retries: int, interval: float, kind: str, now: float
    ) -> str:
        """Schedule an upload now; returns the file name the CSMS is told."""
        filename, _ = log_file(charger_id, (), now, kind)
        self.log = LogJob(url=url, request_id=request_id, filename=filename, due=now, retries=retries,
                          retry_interval=interval, kind=kind)  # fmt: skip
        return filename

    def next_deadline(self) -> float | None:
        times = []
        if self.firmware is not None and self.firmware.stage != "downloading":
            times.append(self.firmware.due)
        if self.log is not None and not self.log.uploading:
            times.append(self.log.due)
        return min(times) if times else None

    def step(self, now: float, *, busy: bool, charger_id: str, lines: Iterable[str]) -> list[Step]:
        """Run what is due by ``now``; ``busy``: a transaction is running (installing waits for it)."""
        steps: list[Step] = []
        job = self.firmware
        if job is not None and job.due <= now and job.stage != "downloading":
            steps += self._firmware_step(job, now, busy)
        log = self.log
        if log is not None and not log.uploading and log.due <= now:
            log.uploading = True
            _, body = log_file(charger_id, lines, now, log.kind)
            steps += [LogStatus(status="Uploading", request_id=log.request_id, kind=log.kind),
                      Upload(url=log.url, filename=log.filename, body=body)]  # fmt: skip
        return steps

    def _firmware_step(self, job: FirmwareJob, now: float, busy: bool) -> list[Step]:
        if job.stage == "scheduled" and job.ota.download_s > 0:
            job.stage, job.due = "fetching", now + job.ota.download_s
            return [self._status("Downloading")]
        if job.stage in ("scheduled", "fetching"):
            first = job.stage == "scheduled"
            job.stage, job.due = "downloading", now
            return [*([self._status("Downloading")] if first else []), Download(url=job.url)]
        if job.stage in ("downloaded", "installing") and busy:
            job.due = now + BUSY_RECHECK_S
            return []
        if job.stage == "downloaded":
            job.stage, job.due = "installing", now + job.ota.install_s
            return [self._status("Installing")]
        if job.stage == "installing":
            if job.failure == "install":
                self.firmware = None
                return [FirmwareStatus(status="InstallationFailed", request_id=job.request_id)]
            job.stage, job.due = "rebooting", now + 3600.0
            version = "" if job.failure == "boot-loop" else job.new_version or ""
            return [self._status("InstallRebooting"), RebootInto(version=version)]
        return []

    def download_done(self, now: float, *, ok: bool, body: bytes, current_version: str) -> list[Step]:
        job = self.firmware
        if job is None or job.stage != "downloading":
            return []
        if job.ota.fails == "download":
            ok = False
        if not ok:
            job.attempts += 1
            if job.attempts > job.retries:
                self.firmware = None
                return [FirmwareStatus(status="DownloadFailed", request_id=job.request_id)]
            job.stage, job.due = "scheduled", now + job.retry_interval
            return []
        if not body:
            self.firmware = None
            return [FirmwareStatus(status=s, request_id=job.request_id) for s in ("Downloaded", "InstallationFailed")]
        job.new_version = version_from(job.url, body, current_version)
        job.failure = ota.failure(job.ota.fails, body)
        steps: list[Step] = [self._status("Downloaded")]
        if job.signed is not None:
            if job.failure == "signature" or not ota.signature_ok(*job.signed, body):
                self.firmware = None
                return [*steps, FirmwareStatus(status="InvalidSignature", request_id=job.request_id)]
            steps.append(self._status("SignatureVerified"))
        job.stage, job.due = "downloaded", now
        return steps

    def upload_done(self, now: float, *, ok: bool) -> list[Step]:
        job = self.log
        if job is None:
            return []
        job.uploading = False
        if ok:
            self.log = None
            return [LogStatus(status="Uploaded", request_id=job.request_id, kind=job.kind)]
        job.attempts += 1
        if job.attempts > job.retries:
            self.log = None
            return [LogStatus(status="UploadFailed", request_id=job.request_id, kind=job.kind)]
        job.due = now + job.retry_interval
        return []

    def rebooted(self) -> FirmwareStatus | None:
        """After a reboot: Installed, if the reboot was a firmware install (its job is then done)."""
        job = self.firmware
        if job is None or job.stage != "rebooting":
            return None
        self.firmware = None
        if job.failure == "boot-loop":
            return None  # the new image did not come up: back on the old one, nothing to report
        return FirmwareStatus(status="Installed", request_id=job.request_id)

    def firmware_status(self) -> FirmwareStatus:
        """The status to report on TriggerMessage(FirmwareStatusNotification)."""
        job = self.firmware
        stage = (
            "Idle" if job is None else {"fetching": "Downloading", "downloading": "Downloading",
                                        "downloaded": "Downloaded", "installing": "Installing"}.get(job.stage, "Idle")
        )
        return FirmwareStatus(status=stage, request_id=None if job is None else job.request_id)

    def log_status(self, kind: str) -> LogStatus:
        job = self.log
        if job is None:
            return LogStatus(status="Idle", request_id=None, kind=kind)
        return LogStatus(status="Uploading" if job.uploading else "Idle", request_id=job.request_id, kind=job.kind)

    def _status(self, status: str) -> FirmwareStatus:
        assert self.firmware is not None
        return FirmwareStatus(status=status, request_id=self.firmware.request_id)


def version_from(url: str, body: bytes, old: str) -> str:
    """The version a downloaded image carries (rules in the module docstring)."""
    name = PurePosixPath(urlparse(url).path).name
    stem, dot, extension = name.rpartition(".")
    if dot and extension.isalpha():
        name = stem  # fw-2.1.0.bin -> fw-2.1.0
    match = _VERSION.search(name)
    if match:
        return match.group(1).rstrip(".")[:50]
    first = body.split(b"\n", 1)[0].decode("utf-8", "replace")
    if first.startswith("version="):
        return first.removeprefix("version=").strip()[:50]
    return f"{old}+{hashlib.sha256(body).hexdigest()[:8]}"[:50]


def log_file(charger_id: str, lines: Iterable[str], now: float, kind: str) -> tuple[str, bytes]:
    """The file a log upload sends: a name and UTF-8 text with a header."""
    stamp = iso(now).replace(":", "").replace("-", "")[:15]
    name = f"{charger_id}-{kind}-{stamp}.log"
    text = f"# {kind} log of {charger_id}, generated {iso(now)}\n" + "\n".join(lines) + "\n"
    return name, text.encode()
