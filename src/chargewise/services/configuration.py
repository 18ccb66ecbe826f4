"""A connected charger's configuration, read and changed through the charger itself, either OCPP version.

A key is a 1.6 configuration key (``HeartbeatInterval``) or a 2.0.1 variable written ``Component.Variable``
(``OCPPCommCtrlr.HeartbeatInterval``), with an optional instance in brackets
(``SampledDataCtrlr.TxUpdatedMeasurands[Default]``) . 1.6 reads every key when none is named (GetConfiguration);
2.0.1 has no such read (its full list is GetBaseReport, asynchronous): name the variables.
A write is one ChangeConfiguration per key (1.6) or one SetVariables (2.0.1); each key gets the charger's status.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.services.admin_errors import AdminError, InvalidRequest
from chargewise.services.connections import CallOutcome, ChargerOffline, Registry

Call = Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]]
MAX_KEYS = 100
_VARIABLE = re.compile(r"([A-Za-z0-9_*\-:.]{1,50}?)\.([A-Za-z0-9_*\-:]{1,50})(?:\[([A-Za-z0-9_*\-:.]{1,50})\])?")


class ChargerRefused(AdminError):
    """The charger answered the read or write with a CallError (REST 502)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Setting:
    key: str
    value: str | None
    readonly: bool | None  # 1.6 tells; 2.0.1 does not in GetVariables (None)
    status: str  # "Accepted" for a value read; else the charger's refusal ("UnknownVariable", "Unknown", ...)


def variable(key: str) -> dict[str, Any]:
    """A 2.0.1 key as the component and variable of GetVariables / SetVariables."""
    match = _VARIABLE.fullmatch(key)
    if match is None:
        raise InvalidRequest(
            f"key {key[:60]!r} is not Component.Variable", fix="write e.g. OCPPCommCtrlr.HeartbeatInterval"
        )
    component, name, instance = match.groups()
    found: dict[str, Any] = {"component": {"name": component}, "variable": {"name": name}}
    if instance is not None:
        found["variable"]["instance"] = instance
    return found


def key_of(item: Mapping[str, Any]) -> str:
    name = f"{item['component']['name']}.{item['variable']['name']}"
    instance = item["variable"].get("instance")
    return f"{name}[{instance}]" if instance else name


class Configuration:
    """Reads and writes through ``registry`` (its live links tell each charger's version)."""

    def __init__(self, *, registry: Registry) -> None:
        self._registry = registry

    def _version(self, charger_id: str) -> OcppVersion:
        link = self._registry.get(charger_id)
        if link is None:
            raise ChargerOffline(f"charger {charger_id!r} is not connected")
        return link.version

    async def _call(self, charger_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        outcome = await self._registry.call(charger_id, action, payload)
        if outcome.payload is None:
            raise ChargerRefused(f"the charger refused {action}: {outcome.error_code} {outcome.error_description or ''}"
                                 .strip(), fix="see the charger's documentation for what it supports")  # fmt: skip
        return outcome.payload

    async def read(self, charger_id: str, keys: Sequence[str]) -> list[Setting]:
        if len(keys) > MAX_KEYS:
            raise InvalidRequest(f"{len(keys)} keys asked", fix=f"ask for at most {MAX_KEYS} at a time")
        if self._version(charger_id) is OcppVersion.V16:
            answer = await self._call(charger_id, "GetConfiguration", {"key": list(keys)} if keys else {})
            found = [Setting(key=k["key"], value=k.get("value"), readonly=k.get("readonly"), status="Accepted")
                     for k in answer.get("configurationKey", [])]  # fmt: skip
            return found + [
                Setting(key=k, value=None, readonly=None, status="Unknown") for k in answer.get("unknownKey", [])
            ]
        if not keys:
            raise InvalidRequest("a 2.0.1 charger lists its variables only by report",
                                 fix="name them: ?key=OCPPCommCtrlr.HeartbeatInterval (repeatable)")  # fmt: skip
        answer = await self._call(charger_id, "GetVariables", {"getVariableData": [variable(k) for k in keys]})
        return [Setting(key=key_of(r), value=r.get("attributeValue"), readonly=None, status=r["attributeStatus"])
                for r in answer.get("getVariableResult", [])]  # fmt: skip

    async def write(self, charger_id: str, values: Mapping[str, str]) -> list[Setting]:
        if not 1 <= len(values) <= MAX_KEYS:
            raise InvalidRequest(f"{len(values)} values given", fix=f"give 1 to {MAX_KEYS} keys with their values")
        if self._version(charger_id) is OcppVersion.V16:
            changed = []
            for key, value in values.items():
                answer = await self._call(charger_id, "ChangeConfiguration", {"key": key, "value": value})
                changed.append(Setting(key=key, value=value, readonly=None, status=answer["status"]))
            return changed
        data = [{**variable(k), "attributeValue": v} for k, v in values.items()]
        answer = await self._call(charger_id, "SetVariables", {"setVariableData": data})
        given = dict(zip((key_of(d) for d in data), values.values(), strict=True))
        return [Setting(key=key_of(r), value=given.get(key_of(r)), readonly=None, status=r["attributeStatus"])
                for r in answer.get("setVariableResult", [])]  # fmt: skip
