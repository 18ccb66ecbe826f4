"""Which OCPP message carries which credential change, per version, and what the charger's answer means.

=====================  ==============================================  =============================================
change                 OCPP 1.6 (security whitepaper)                  OCPP 2.0.1
=====================  ==============================================  =============================================
new Basic password     ChangeConfiguration AuthorizationKey (hex of    SetVariables SecurityCtrlr.BasicAuthPassword
                       the password's 16-20 bytes)
raise security profile ChangeConfiguration SecurityProfile, Reset Hard SetNetworkProfile (new slot), SetVariables
                                                                       OCPPCommCtrlr.NetworkConfigurationPriority
                                                                       (new slot first, the old one after), Reset
                                                                       OnIdle
renew its certificate  ExtendedTriggerMessage SignChargePointCertificate TriggerMessage SignChargingStationCertificate
signed certificate     CertificateSigned {certificateChain}            CertificateSigned {+ certificateType}
install a root         InstallCertificate CentralSystemRootCertificate InstallCertificate CSMSRootCertificate, ...
=====================  ==============================================  =============================================

Certificate kinds are named the same for both versions here (``KINDS``); a kind the version lacks is refused
before anything is sent. Accepted and RebootRequired both mean the charger took the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.security.authority import HashData

Payload = dict[str, Any]
Call = tuple[str, Payload]
V16, V201 = OcppVersion.V16, OcppVersion.V201
TAKEN = frozenset({"Accepted", "RebootRequired"})

#: version-neutral certificate kind -> (1.6 CertificateUse, 2.0.1 certificate use); None: that version has none
KINDS: dict[str, tuple[str | None, str | None]] = {
    "csms-root": ("CentralSystemRootCertificate", "CSMSRootCertificate"),
    "manufacturer-root": ("ManufacturerRootCertificate", "ManufacturerRootCertificate"),
    "v2g-root": (None, "V2GRootCertificate"),
    "mo-root": (None, "MORootCertificate"),
    "v2g-chain": (None, "V2GCertificateChain"),  # listed only: GetInstalledCertificateIds
}
INSTALLABLE = ("csms-root", "manufacturer-root", "v2g-root", "mo-root")


class Unsupported(ValueError):
    """The change cannot be expressed in the charger's version; the message says what to do instead."""


def ocpp_kind(kind: str, version: OcppVersion) -> str:
    """The OCPP certificate type for ``kind``; Unsupported (naming the choices) for an unknown kind or one the
    version lacks."""
    if kind not in KINDS:
        raise Unsupported(f"certificate type {kind[:40]!r} is unknown; use one of {', '.join(KINDS)}")
    name = KINDS[kind][0 if version is V16 else 1]
    if name is None:
        usable = ", ".join(k for k, names in KINDS.items() if names[0] is not None)
        raise Unsupported(f"OCPP 1.6 has no {kind} certificate; use {usable}")
    return name


def neutral_kind(ocpp_name: str) -> str:
    for kind, names in KINDS.items():
        if ocpp_name in names:
            return kind
    return ocpp_name


def password_problem(version: OcppVersion, password: str) -> str | None:
    """Why ``password`` cannot be a Basic-auth password of a charger of ``version``, or None. 2.0.1: 16 to 40
    characters; 1.6 (whitepaper): 16 to 20 bytes, sent hex-encoded in AuthorizationKey."""
    if version is V16 and not 16 <= len(password.encode()) <= 20:
        return "a 1.6 charger's password must be 16 to 20 bytes (AuthorizationKey carries it hex-encoded)"
    if not 16 <= len(password) <= 40:
        return "a charger password must be 16 to 40 characters (OCPP security profile 1/2)"
    return None


def password_change(version: OcppVersion, password: str) -> Call:
    """1.6: the password's bytes hex-encoded (security whitepaper, OCTT TC_073); 2.0.1: the password itself."""
    if version is V16:
        return "ChangeConfiguration", {"key": "AuthorizationKey", "value": password.encode().hex()}
    return "SetVariables", {"setVariableData": [{"component": {"name": "SecurityCtrlr"},
                                                 "variable": {"name": "BasicAuthPassword"},
                                                 "attributeValue": password}]}  # fmt: skip


def change_taken(version: OcppVersion, answer: Payload) -> str:
    """The status a ChangeConfiguration / SetVariables answer gives the (single) change; in :data:`TAKEN` if
    the charger took it."""
    if version is V16:
        return str(answer.get("status", "?"))
    results = answer.get("setVariableResult") or [{}]
    return str(results[0].get("attributeStatus", "?"))


PRIORITY = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NetworkConfigurationPriority"}}


def read_priority() -> Call:
    """2.0.1: ask for the slots in use (GetVariables NetworkConfigurationPriority)."""
    return "GetVariables", {"getVariableData": [PRIORITY]}


def current_priority(answer: Payload) -> list[int]:
    """The slots of a GetVariables answer to :func:`read_priority` (none readable: ``[0]``, the usual first slot)."""
    results = answer.get("getVariableResult") or [{}]
    text = str(results[0].get("attributeValue", "")) if results[0].get("attributeStatus") == "Accepted" else ""
    slots = [int(p) for p in text.replace(" ", "").split(",") if p.isdigit()]
    return slots or [0]


@dataclass(frozen=True, kw_only=True, slots=True)
class ProfileRaise:
    """The calls that raise a charger's security profile, in order; each must be taken before the next."""

    calls: tuple[Call, ...]
    slot: int | None  # 2.0.1: the network profile slot the new profile goes to


def raise_profile(version: OcppVersion, profile: int, *, csms_url: str, priority: list[int],
                  interface: str = "Wired0") -> ProfileRaise:  # fmt: skip
    """The calls for ``profile`` (2 or 3). 2.0.1: the new profile goes to the first free slot, tried first
    after the reset; the old slots stay behind it, so a charger that cannot connect with the new one falls
    back to its old profile (B09/A05)."""
    if profile not in (2, 3):
        raise Unsupported(f"security profile {profile} cannot be raised to; give 2 or 3")
    if version is V16:
        return ProfileRaise(calls=(("ChangeConfiguration", {"key": "SecurityProfile", "value": str(profile)}),
                                   ("Reset", {"type": "Hard"})), slot=None)  # fmt: skip
    slot = next(n for n in range(len(priority) + 1) if n not in priority)
    connection = {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": csms_url, "messageTimeout": 30,
                  "securityProfile": profile, "ocppInterface": interface}  # fmt: skip
    order = ",".join(str(n) for n in [slot, *priority])
    calls: tuple[Call, ...] = (
        ("SetNetworkProfile", {"configurationSlot": slot, "connectionData": connection}),
        ("SetVariables", {"setVariableData": [{**PRIORITY, "attributeValue": order}]}),
        ("Reset", {"type": "OnIdle"}),
    )
    return ProfileRaise(calls=calls, slot=slot)


def step_taken(action: str, version: OcppVersion, answer: Payload) -> str:
    """The status of one :class:`ProfileRaise` call's answer (Reset OnIdle may be Scheduled: taken too)."""
    if action in ("ChangeConfiguration", "SetVariables"):
        return change_taken(version, answer)
    status = str(answer.get("status", "?"))
    return "Accepted" if status == "Scheduled" else status


def renew(version: OcppVersion) -> Call:
    if version is V16:
        return "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
    return "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}


def certificate_signed(version: OcppVersion, chain: str) -> Call:
    if version is V16:
        return "CertificateSigned", {"certificateChain": chain}
    return "CertificateSigned", {"certificateChain": chain, "certificateType": "ChargingStationCertificate"}


def sign_answer(version: OcppVersion, accepted: bool, reason_code: str = "", detail: str = "") -> Payload:
    """The SignCertificate answer (1.6 has no statusInfo: the reason stays in our log)."""
    answer: Payload = {"status": "Accepted" if accepted else "Rejected"}
    if not accepted and version is V201:
        answer["statusInfo"] = {"reasonCode": reason_code[:20], "additionalInfo": detail[:512]}
    return answer


def install(version: OcppVersion, kind: str, pem: str) -> Call:
    return "InstallCertificate", {"certificateType": ocpp_kind(kind, version), "certificate": pem}


def list_installed(version: OcppVersion, kinds: list[str]) -> list[Call]:
    """1.6 asks one type per call (both roots when none is named); 2.0.1 asks all at once (all: no filter)."""
    if version is V16:
        names = [ocpp_kind(k, version) for k in kinds] or [ocpp_kind(k, version) for k in INSTALLABLE[:2]]
        return [("GetInstalledCertificateIds", {"certificateType": name}) for name in names]
    payload: Payload = {"certificateType": [ocpp_kind(k, version) for k in kinds]} if kinds else {}
    return [("GetInstalledCertificateIds", payload)]


@dataclass(frozen=True, kw_only=True, slots=True)
class Installed:
    kind: str  # version-neutral (``KINDS``), or the OCPP name if unknown
    hash: HashData


def installed(version: OcppVersion, request: Payload, answer: Payload) -> list[Installed]:
    """What a GetInstalledCertificateIds answer lists (NotFound: nothing)."""
    if version is V16:
        kind = neutral_kind(str(request["certificateType"]))
        return [Installed(kind=kind, hash=_hash(h)) for h in answer.get("certificateHashData") or []]
    return [Installed(kind=neutral_kind(str(c["certificateType"])), hash=_hash(c["certificateHashData"]))
            for c in answer.get("certificateHashDataChain") or []]  # fmt: skip


def delete(hash_data: HashData) -> Call:
    return "DeleteCertificate", {"certificateHashData": hash_data.payload()}


def _hash(data: Payload) -> HashData:
    return HashData(issuer_name_hash=str(data["issuerNameHash"]), issuer_key_hash=str(data["issuerKeyHash"]),
                    serial_number=str(data["serialNumber"]), hash_algorithm=str(data["hashAlgorithm"]))  # fmt: skip
