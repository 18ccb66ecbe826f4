"""Admission of a charger's WebSocket upgrade: path, identity, subprotocol, credentials, unknown-charger policy.

Pure decisions on the request's path and headers; the transport adapter turns a :class:`Refusal` into an
HTTP response and an :class:`Admission` into a connection.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from chargewise.domain.ids import charger_id_problem
from chargewise.domain.model import OcppVersion, Registration
from chargewise.services.central import UnknownChargerPolicy
from chargewise.services.directory import Directory, Entry
from chargewise.services.newcomers import RETRY_AFTER

SUBPROTOCOLS = {"ocpp2.0.1": OcppVersion.V201, "ocpp1.6": OcppVersion.V16}


@dataclass(frozen=True, kw_only=True, slots=True)
class Admission:
    charger_id: str
    version: OcppVersion
    subprotocol: str
    entry: Entry
    new: bool  # unknown until now: its first BootNotification records it (as ``entry.registration``)


@dataclass(frozen=True, kw_only=True, slots=True)
class Refusal:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()


def charger_id_from_path(path: str) -> str | None:
    """``/ocpp/{id}`` or ``/{id}`` (percent-decoded; check it with ``charger_id_problem``), or None if the path
    has another shape. ``/ocpp`` and ``/ocpp/`` name no charger (not one called "ocpp")."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(parts) == 2 and parts[0] == "ocpp":
        return unquote(parts[1])
    if len(parts) == 1 and parts[0] != "ocpp":
        return unquote(parts[0])
    return None


def choose_subprotocol(header: str | None) -> str | None:
    """The first protocol the charger offers that we speak (the charger lists them in its preference order)."""
    for offered in (header or "").split(","):
        if offered.strip() in SUBPROTOCOLS:
            return offered.strip()
    return None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def admit(
    *,
    path: str,
    protocols: str | None,
    authorization: str | None,
    directory: Directory,
    policy: UnknownChargerPolicy,
    newcomer_refusal: Callable[[], str | None] = lambda: None,
    cleared: bool = False,
) -> Admission | Refusal:
    """Decide on one upgrade request. ``newcomer_refusal`` says why an unknown id may not be added as Pending
    now (``services.newcomers``): it is refused with 503 and Retry-After. ``cleared``: the gatekeeper
    (``services.gatekeeper``) has already judged its credentials and security profile; otherwise only a
    password known good without scrypt is admitted."""
    charger_id = charger_id_from_path(path)
    if charger_id is None:
        return Refusal(status=404, reason="connect to /ocpp/{charger_id}")
    problem = charger_id_problem(charger_id)
    if problem is not None:
        return Refusal(status=400, reason=problem)
    subprotocol = choose_subprotocol(protocols)
    if subprotocol is None:
        return Refusal(status=400, reason="no supported subprotocol offered: offer ocpp1.6 or ocpp2.0.1")
    entry = directory.get(charger_id)
    new = entry is None
    if entry is None:
        if policy is UnknownChargerPolicy.REJECT:
            return Refusal(status=404, reason=f"unknown charger {charger_id}; add it with: chargewise chargers add")
        registration = Registration.ACCEPTED if policy is UnknownChargerPolicy.ACCEPT else Registration.PENDING
        why = newcomer_refusal() if registration is Registration.PENDING else None
        if why is not None:
            return Refusal(status=503, reason=why, headers=(("Retry-After", str(RETRY_AFTER)),))
        entry = Entry(charger_id=charger_id, registration=registration)
    if entry.password_hash is not None and not cleared:
        credentials = basic_credentials(authorization)
        if credentials is None or credentials[0] != charger_id or not directory.known_password(entry, credentials[1]):
            return Refusal(
                status=401, reason="bad or missing credentials", headers=(("WWW-Authenticate", 'Basic realm="ocpp"'),)
            )
    return Admission(
        charger_id=charger_id, version=SUBPROTOCOLS[subprotocol], subprotocol=subprotocol, entry=entry, new=new
    )
