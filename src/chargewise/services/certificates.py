"""Charger certificates: sign a charger's CSR for its own id, install roots, list and delete installed ones.

Rules:

1. SignCertificate is answered at once from the CSR checks (``security.csr``): Accepted, or Rejected with
   the reason (2.0.1 statusInfo; 1.6 has none, so it is logged). V2GCertificate (ISO 15118) is refused as not
   supported here: chargewise's CA signs only the certificate a charger connects with.
2. Signing is asynchronous, as the spec has it: once the Accepted answer has gone, the certificate is signed
   by the CSMS CA and sent with CertificateSigned; the charger's answer is kept (``signings``).
3. InstallCertificate, GetInstalledCertificateIds and DeleteCertificate go through the registry's ``call``; a
   certificate kind the charger's version lacks is refused before anything is sent (``security.commands``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cryptography import x509

from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Clock
from chargewise.security import commands
from chargewise.security.authority import Authority, HashData, chain_pem, hash_data, sign
from chargewise.security.csr import CsrRefusal, check_csr, common_names
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.connections import ChargerOffline, Registry

log = logging.getLogger(__name__)
SEND_AFTER = 0.01  # s: CertificateSigned leaves after the SignCertificate answer (rule 2)
Payload = dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Signing:
    """One CSR of a charger and what became of it."""

    charger_id: str
    at: datetime
    accepted: bool  # the CSR passed the checks
    detail: str  # why it was refused, or the certificate's serial and validity
    serial: str | None = None
    not_after: datetime | None = None
    delivered: str | None = None  # the charger's CertificateSigned answer (Accepted, Rejected, Offline, ...)


@dataclass(frozen=True, kw_only=True, slots=True)
class CallResult:
    status: str
    detail: str = ""


class Certificates:
    """``authority`` is asked on first use (``adapters.ca_files.open_authority``: created then if need be)."""

    def __init__(self, *, authority: Callable[[], Authority], registry: Registry, clock: Clock,
                 days: int = 365) -> None:  # fmt: skip
        self._authority = authority
        self._registry = registry
        self._clock = clock
        self._days = days
        self.signings: dict[str, list[Signing]] = {}  # charger id -> its CSRs, oldest first (the last 10)
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ SignCertificate (rules 1, 2)
    def request(self, charger_id: str, version: OcppVersion, csr_pem: str, certificate_type: str | None) -> Payload:
        """The SignCertificate answer; when Accepted, CertificateSigned follows (a task, kept)."""
        now = self._clock.now()
        if certificate_type == "V2GCertificate":
            refusal = CsrRefusal(reason_code="NotSupported",
                                 detail="V2GCertificate (ISO 15118) is not signed here, only "
                                        "ChargingStationCertificate")  # fmt: skip
            return self._refuse(charger_id, version, refusal, now)
        checked = check_csr(csr_pem, charger_id)
        if isinstance(checked, CsrRefusal):
            return self._refuse(charger_id, version, checked, now)
        task = asyncio.get_running_loop().create_task(self._sign_and_send(charger_id, version, checked, now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return commands.sign_answer(version, True)

    def _refuse(self, charger_id: str, version: OcppVersion, refusal: CsrRefusal, now: datetime) -> Payload:
        log.warning("%s: CSR refused: %s", charger_id, refusal.detail)
        self._note(Signing(charger_id=charger_id, at=now, accepted=False, detail=refusal.detail))
        return commands.sign_answer(version, False, refusal.reason_code, refusal.detail)

    async def _sign_and_send(self, charger_id: str, version: OcppVersion, csr: x509.CertificateSigningRequest,
                             now: datetime) -> None:  # fmt: skip
        await asyncio.sleep(SEND_AFTER)
        authority = self._authority()
        leaf = sign(authority, csr, now, self._days)
        serial = format(leaf.serial_number, "x")
        until = leaf.not_valid_after_utc
        signing = Signing(charger_id=charger_id, at=now, accepted=True, serial=serial, not_after=until,
                          detail=f"signed {serial}, valid until {until:%Y-%m-%d}")  # fmt: skip
        action, payload = commands.certificate_signed(version, chain_pem(authority, leaf))
        try:
            outcome = await self._registry.call(charger_id, action, payload)
            delivered = str((outcome.payload or {}).get("status", outcome.error_code))
        except Exception as exc:  # offline, timeout: the charger asks again (a new CSR) when it wants one
            delivered = type(exc).__name__
        log.info("%s: certificate %s sent, the charger answered %s", charger_id, serial, delivered)
        self._note(replace(signing, delivered=delivered))

    def _note(self, signing: Signing) -> None:
        kept = self.signings.setdefault(signing.charger_id, [])
        kept.append(signing)
        del kept[:-10]

    # ------------------------------------------------------------------ remote certificate management (rule 3)
    def root_pem(self) -> str:
        return self._authority().pem

    async def install(self, charger_id: str, kind: str, pem: str | None) -> CallResult:
        """InstallCertificate of ``pem`` (None: the CSMS CA's root, for kind csms-root)."""
        version = self._version(charger_id)
        if pem is None:
            if kind != "csms-root":
                raise InvalidRequest(f"certificate: none given for {kind}", fix="send the PEM certificate to install")
            pem = self.root_pem()
        try:
            certificates = x509.load_pem_x509_certificates(pem.encode())
        except ValueError:
            raise InvalidRequest("certificate is not a PEM X.509 certificate",
                                 fix="send one BEGIN CERTIFICATE block") from None  # fmt: skip
        if len(certificates) != 1:
            raise InvalidRequest(f"certificate holds {len(certificates)} certificates", fix="send exactly one")
        action, payload = self._expressed(lambda: commands.install(version, kind, pem))
        return await self._status(charger_id, action, payload)

    async def installed(self, charger_id: str, kinds: list[str]) -> list[commands.Installed]:
        """GetInstalledCertificateIds, once per type for 1.6 (``kinds`` empty: every type)."""
        version = self._version(charger_id)
        found: list[commands.Installed] = []
        for action, payload in self._expressed(lambda: commands.list_installed(version, kinds)):
            outcome = await self._registry.call(charger_id, action, payload)
            if not outcome.ok:
                raise InvalidRequest(f"{charger_id} answered {action} with {outcome.error_code}",
                                     fix="this charger may not support certificate management")  # fmt: skip
            found += commands.installed(version, payload, outcome.payload or {})
        return found

    async def delete(self, charger_id: str, serial: str) -> CallResult:
        """DeleteCertificate of the installed certificate with ``serial`` (hex, as listed)."""
        wanted = serial.lower().lstrip("0") or "0"
        found = await self.installed(charger_id, [])
        matches = [i for i in found if (i.hash.serial_number.lower().lstrip("0") or "0") == wanted]
        if not matches:
            raise NotFound(f"{charger_id} has no installed certificate with serial {serial[:64]!r}",
                           fix="list them: chargewise certs list CHARGER")  # fmt: skip
        action, payload = commands.delete(matches[0].hash)
        return await self._status(charger_id, action, payload)

    async def renew(self, charger_id: str) -> CallResult:
        """Ask the charger for a new CSR (it then sends SignCertificate; rules 1-2 follow)."""
        action, payload = commands.renew(self._version(charger_id))
        return await self._status(charger_id, action, payload)

    def ca_hash(self) -> HashData:
        return hash_data(self._authority().certificate)

    def ca_subject(self) -> str:
        names = common_names(self._authority().certificate.subject)
        return names[0] if names else self._authority().certificate.subject.rfc4514_string()

    def ca_fingerprint(self) -> str:
        from cryptography.hazmat.primitives import hashes

        return self._authority().certificate.fingerprint(hashes.SHA256()).hex()

    def ca_not_after(self) -> datetime:
        return self._authority().certificate.not_valid_after_utc

    # ------------------------------------------------------------------ helpers
    def _version(self, charger_id: str) -> OcppVersion:
        link = self._registry.get(charger_id)
        if link is None:
            raise ChargerOffline(f"charger {charger_id!r} is not connected")
        return link.version

    @staticmethod
    def _expressed(build: Callable[[], Any]) -> Any:
        try:
            return build()
        except commands.Unsupported as exc:
            raise InvalidRequest(str(exc), fix="pick a certificate type the charger's OCPP version has") from None

    async def _status(self, charger_id: str, action: str, payload: Payload) -> CallResult:
        outcome = await self._registry.call(charger_id, action, payload)
        if not outcome.ok:
            return CallResult(status=str(outcome.error_code), detail=outcome.error_description or "")
        return CallResult(status=str((outcome.payload or {}).get("status", "?")))

    async def drain(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
