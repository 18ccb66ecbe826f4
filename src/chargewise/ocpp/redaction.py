"""Credentials out of OCPP frames, before anything keeps or shows them (the message trace).

What counts as a credential, in either version and direction:

1. Any JSON object member whose name says password, authorization key or private key (2.0.1
   SetNetworkProfile ``basicAuthPassword``, ``apn.apnPassword``, ``vpn.password``; any vendor's ``*Password*``).
2. A configuration entry that names one: 1.6 ``{"key": "AuthorizationKey", "value": ...}`` (ChangeConfiguration,
   GetConfiguration's answer) and 2.0.1 ``{"variable": {"name": "BasicAuthPassword"}, "attributeValue": ...}``
   (SetVariables, GetVariables' answer, NotifyReport's ``variableAttribute`` values).
3. Any string holding PEM private-key material (``-----BEGIN ... PRIVATE KEY-----``).

:func:`may_hold_credential` is the cheap test for the hot path; only a frame that passes it is parsed and
rewritten by :func:`redact`. A charger's MeterValues carrying a "password" member is not scanned: no schema of
those actions has one, and such a frame is the charger's own data, refused by validation.
"""

from __future__ import annotations

import json
import re
from typing import Any

REDACTED = "***"
_NAMES = re.compile(r"password|authorizationkey|privatekey|private_key", re.IGNORECASE)
_VALUE_FIELDS = ("value", "attributeValue")
#: what every credential of the rules above contains (Password/password, AuthorizationKey, PRIVATE KEY)
_MARKERS = (b"assword", b"uthorizationKey", b"PRIVATE KEY")
WITHHELD = '"[frame withheld: not valid JSON and it may hold a credential]"'
#: the calls chargers send most, whose schemas hold no credential: not scanned (the hot path)
_PLAIN_CALLS = frozenset({b"MeterValues", b"Heartbeat", b"StatusNotification", b"TransactionEvent",
                          b"StartTransaction", b"StopTransaction", b"Authorize"})  # fmt: skip


def may_hold_credential(frame: bytes, *, outgoing: bool = False) -> bool:
    """False when the frame surely holds no credential: our own answers (``outgoing`` CallResults and
    CallErrors), a charger's call of a :data:`_PLAIN_CALLS` action, or no credential-like name in it. Cheap:
    a plain call costs two ``find`` and a set lookup (~0.3 us), the rest three substring scans."""
    kind = frame[1:2]
    if outgoing and kind != b"2":
        return False
    if not outgoing and kind == b"2":  # [2,"<id>","<Action>",...: the action name, as compact JSON writes it
        end = frame.find(b'","', 4)
        if end != -1:
            stop = frame.find(b'"', end + 3, end + 64)
            if stop != -1 and frame[end + 3 : stop] in _PLAIN_CALLS:
                return False
    return b"assword" in frame or b"uthorizationKey" in frame or b"PRIVATE KEY" in frame  # = any(_MARKERS)


def redact(frame: bytes) -> bytes:
    """The frame with every credential replaced by ``***`` (rules above); an unparseable frame that may hold
    one is withheld whole."""
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):
        return WITHHELD.encode()
    return json.dumps(_walk(message), separators=(",", ":")).encode()


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        named = _names_credential(value)
        out: dict[str, Any] = {}
        for key, item in value.items():
            secret_member = isinstance(key, str) and _NAMES.search(key) and not isinstance(item, dict | list)
            if secret_member or (named and key in _VALUE_FIELDS):
                out[key] = REDACTED
            else:
                out[key] = _walk(item)
        if named and "variableAttribute" in out:  # NotifyReport: the values sit one level down
            out["variableAttribute"] = [{**a, "value": REDACTED} if isinstance(a, dict) and "value" in a else a
                                        for a in out["variableAttribute"]]  # fmt: skip
        return out
    if isinstance(value, list):
        return [_walk(item) for item in value]
    if isinstance(value, str) and "PRIVATE KEY" in value:
        return REDACTED
    return value


def _names_credential(entry: dict[str, Any]) -> bool:
    key = entry.get("key")
    if isinstance(key, str) and _NAMES.search(key):
        return True
    variable = entry.get("variable")
    name = variable.get("name") if isinstance(variable, dict) else None
    return isinstance(name, str) and bool(_NAMES.search(name))
