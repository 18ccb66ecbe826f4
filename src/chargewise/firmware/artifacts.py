"""Firmware artifacts: an image's metadata as a frozen record; the bytes live beside it, in the data directory.

An artifact is known by its id (the first 12 hex digits of its SHA-256: the same image added twice is the
same artifact). Its version is what the charger reports in BootNotification.firmwareVersion once the image
runs, so a campaign can tell that it installed. A signed image carries the signature (base64, as both OCPP
versions send it) and the PEM certificate that verifies it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from chargewise.firmware.errors import FirmwareError

VERSION_MAX = 50  # 1.6 firmwareVersion is CiString50, 2.0.1 firmwareVersion string[0..50]
SIGNATURE_MAX = 800  # 2.0.1 firmware.signature string[0..800]
CERTIFICATE_MAX = 5500  # 2.0.1 firmware.signingCertificate string[0..5500]
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FILENAME = re.compile(r"[^A-Za-z0-9._+-]")


@dataclass(frozen=True, kw_only=True, slots=True)
class Artifact:
    id: str
    version: str
    filename: str  # the name it is served under (the end of every download URL)
    sha256: str
    size: int
    added_at: datetime
    vendor: str | None = None  # the chargers it is for; None: any
    model: str | None = None
    signature: str | None = None  # base64
    signing_certificate: str | None = None  # PEM

    @property
    def signed(self) -> bool:
        return self.signature is not None


def artifact_id(sha256: str) -> str:
    return sha256[:12]


def check_version(version: str) -> str:
    """The version as given; refuse one no charger can report."""
    version = version.strip()
    if not version:
        raise FirmwareError("--version", "is empty", "give the version the image reports at boot, e.g. 2.1.0")
    if len(version) > VERSION_MAX:
        raise FirmwareError("--version", f"longer than {VERSION_MAX} characters",
                            "OCPP firmwareVersion holds at most 50")  # fmt: skip
    return version


def check_checksum(expected: str | None, actual: str) -> None:
    """Refuse an image whose SHA-256 is not the one the operator expected (a truncated or wrong download)."""
    if expected is None:
        return
    wanted = expected.strip().lower()
    if not _SHA256.fullmatch(wanted):
        raise FirmwareError("--sha256", f"{expected[:70]!r} is not a SHA-256", "give 64 hex digits (sha256sum FILE)")
    if wanted != actual:
        raise FirmwareError("--sha256", f"the file's SHA-256 is {actual}, not {wanted}",
                            "check that the file is complete and the checksum is the image's")  # fmt: skip


def check_signature(signature: str | None, certificate: str | None) -> tuple[str | None, str | None]:
    """A signature must be base64 and come with its signing certificate (a charger cannot verify it alone)."""
    if signature is None and certificate is None:
        return None, None
    if signature is None or certificate is None:
        raise FirmwareError("--signature", "a signature and its signing certificate go together",
                            "give both --signature FILE and --signing-certificate PEM_FILE")  # fmt: skip
    signature = "".join(signature.split())
    try:
        base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise FirmwareError("--signature", "is not base64", "give the signature file base64-encoded") from None
    if len(signature) > SIGNATURE_MAX:
        raise FirmwareError("--signature", f"longer than {SIGNATURE_MAX} characters", "OCPP carries at most 800")
    if "-----BEGIN CERTIFICATE-----" not in certificate:
        raise FirmwareError("--signing-certificate", "is not a PEM certificate", "give the PEM file of the signer")
    if len(certificate) > CERTIFICATE_MAX:
        raise FirmwareError("--signing-certificate", f"longer than {CERTIFICATE_MAX} characters",
                            "OCPP carries at most 5500; give the signer's certificate alone")  # fmt: skip
    return signature, certificate


def safe_filename(name: str, version: str) -> str:
    """The name to serve the image under: the file's own, reduced to characters every URL carries."""
    cleaned = _FILENAME.sub("_", name.rsplit("/", 1)[-1]).strip("._") or f"firmware-{version}.bin"
    return cleaned[:100]


def new_artifact(
    *,
    sha256: str,
    size: int,
    version: str,
    filename: str,
    added_at: datetime,
    vendor: str | None = None,
    model: str | None = None,
    signature: str | None = None,
    signing_certificate: str | None = None,
    expected_sha256: str | None = None,
) -> Artifact:
    """Check everything a person gave and return the artifact; :class:`FirmwareError` names what is wrong."""
    check_checksum(expected_sha256, sha256)
    version = check_version(version)
    if size == 0:
        raise FirmwareError("FILE", "is empty", "give the firmware image file")
    signature, signing_certificate = check_signature(signature, signing_certificate)
    return Artifact(
        id=artifact_id(sha256), version=version, filename=safe_filename(filename, version), sha256=sha256,
        size=size, added_at=added_at, vendor=vendor or None, model=model or None, signature=signature,
        signing_certificate=signing_certificate,
    )  # fmt: skip


def of_version(artifacts: list[Artifact], version: str) -> list[Artifact]:
    """The artifacts of ``version``, newest first; an unknown version names the known ones."""
    found = sorted((a for a in artifacts if a.version == version), key=lambda a: a.added_at, reverse=True)
    if not found:
        known = ", ".join(sorted({a.version for a in artifacts})) or "none yet"
        raise FirmwareError(
            "--version",
            f"no artifact has version {version!r}",
            f"add it with `chargewise firmware add FILE --version {version}`; known: {known}",
        )
    return found


def fitting(artifacts: list[Artifact], vendor: str | None, model: str | None) -> Artifact | None:
    """The first of ``artifacts`` made for this vendor and model (an artifact naming neither fits any)."""
    for a in artifacts:
        if a.vendor in (None, vendor) and a.model in (None, model):
            return a
    return None
