"""REST models of charger certificates and credential changes (``adapters/http_certs.py``), and their routes
for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from chargewise.security.commands import Installed
from chargewise.services.certificates import CallResult, Signing
from chargewise.services.credentials import ChangeResult


class CaView(msgspec.Struct, kw_only=True):
    subject: str
    sha256_fingerprint: str
    not_after: datetime
    pem: str  # install it on chargers as their csms-root (POST .../certificates with no certificate)


class InstalledView(msgspec.Struct, kw_only=True):
    type: str  # csms-root, manufacturer-root, v2g-root, mo-root, v2g-chain (or the OCPP name)
    serial_number: str  # hex; DELETE .../certificates/{serial_number} removes it
    issuer_name_hash: str
    issuer_key_hash: str
    hash_algorithm: str


class InstallRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    type: str  # csms-root, manufacturer-root (both versions); v2g-root, mo-root (2.0.1)
    certificate: str | None = None  # PEM; none for csms-root: the CSMS CA's root


class CommandView(msgspec.Struct, kw_only=True):
    status: str  # the charger's answer (Accepted, Rejected, Failed, NotFound, ...) or its CallError code
    detail: str


class SigningView(msgspec.Struct, kw_only=True):
    at: datetime
    accepted: bool  # the CSR passed the checks (CN = the charger's id, signature, key size)
    detail: str
    serial_number: str | None
    not_after: datetime | None
    delivered: str | None  # the charger's answer to CertificateSigned


class RotationRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    password: str | None = None  # 16-40 characters; none: one is made (and shown nowhere)


class ProfileRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    profile: int  # 2 or 3
    csms_url: str | None = None  # 2.0.1: the wss:// URL to connect to, without the charger id
    deadline_s: float = 300.0  # to come back with the new profile; else the raise is called off
    interface: str = "Wired0"  # 2.0.1 ocppInterface of the new network profile


class ChangeView(msgspec.Struct, kw_only=True):
    charger_id: str
    change: str
    done: bool
    status: str
    detail: str


def installed_view(item: Installed) -> InstalledView:
    h = item.hash
    return InstalledView(type=item.kind, serial_number=h.serial_number, issuer_name_hash=h.issuer_name_hash,
                         issuer_key_hash=h.issuer_key_hash, hash_algorithm=h.hash_algorithm)  # fmt: skip


def command_view(result: CallResult) -> CommandView:
    return CommandView(status=result.status, detail=result.detail)


def signing_view(s: Signing) -> SigningView:
    return SigningView(at=s.at, accepted=s.accepted, detail=s.detail, serial_number=s.serial, not_after=s.not_after,
                       delivered=s.delivered)  # fmt: skip


def change_view(r: ChangeResult) -> ChangeView:
    return ChangeView(charger_id=r.charger_id, change=r.change, done=r.done, status=r.status, detail=r.detail)


LIVE = {404: "no such charger", 409: "charger not connected or not accepted, or a change under way",
        504: "the charger did not answer"}  # fmt: skip
ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/ca", "get", "The CSMS certificate authority that signs chargers' CSRs (made on first use)", None,
     CaView, {}),
    ("/api/v1/chargers/{id}/certificates", "get",
     "Certificates installed on the charger (GetInstalledCertificateIds; ?type=csms-root|manufacturer-root|...)",
     None, list[InstalledView], {400: "unknown type", **LIVE}),
    ("/api/v1/chargers/{id}/certificates", "post", "Install a root certificate on the charger (InstallCertificate)",
     InstallRequest, CommandView, {400: "invalid body, type or certificate", **LIVE}),
    ("/api/v1/chargers/{id}/certificates/{serial}", "delete",
     "Delete the installed certificate with this serial number (DeleteCertificate)", None, CommandView, LIVE),
    ("/api/v1/chargers/{id}/certificates/renew", "post",
     "Ask the charger for a new CSR (TriggerMessage / ExtendedTriggerMessage); the CSMS CA signs it", None,
     CommandView, LIVE),
    ("/api/v1/chargers/{id}/signings", "get", "The charger's last CSRs and what became of them", None,
     list[SigningView], {}),
    ("/api/v1/chargers/{id}/password-rotation", "post",
     "Rotate the charger's Basic-auth password on its live link (the old one works until it reconnects)",
     RotationRequest, ChangeView, {400: "invalid body or password (16-40 characters)", **LIVE}),
    ("/api/v1/chargers/{id}/security-profile", "post",
     "Raise the charger's security profile to 2 or 3 and wait for it to come back with it (else called off)",
     ProfileRequest, ChangeView, {400: "invalid body, profile, URL or deadline; TLS off", **LIVE}),
]  # fmt: skip
