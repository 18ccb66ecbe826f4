"""How long each charger waits for the cable after a transaction began without one: its EV-connection timeout
(2.0.1 ``TxCtrlr.EVConnectionTimeOut``, 1.6 ``ConnectionTimeOut``), learned from what the server sees of the
charger's configuration. Pure: no I/O, no clock.

Where it is learned: the answers to GetVariables / GetConfiguration, NotifyReport, and the SetVariables /
ChangeConfiguration the server sent that the charger accepted (RebootRequired counts too: it is the value
configured). Until one of those is seen (and after a server restart: this is memory only) the charger's timeout
is :data:`DEFAULT_TIMEOUT`, chosen long on purpose: too short a guess closes a transaction whose driver is
still plugging in, which is the lie this module exists to prevent, while too long a guess only keeps open a
little longer an orphan that never saw a cable and so delivered no energy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

DEFAULT_TIMEOUT = timedelta(seconds=600)
#: no charger waits longer than a day for a cable; a larger answer is taken as this
LONGEST = timedelta(days=1)
V201_COMPONENT, V201_VARIABLE, V16_KEY = "TxCtrlr", "EVConnectionTimeOut", "ConnectionTimeOut"
_ACCEPTED = ("Accepted", "RebootRequired")


class EvConnectionTimeouts:
    """Each charger's timeout as last learned; bounded to ``max_chargers`` entries (the oldest learned go)."""

    def __init__(self, *, default: timedelta = DEFAULT_TIMEOUT, max_chargers: int = 100_000) -> None:
        self.default = default
        self._max = max_chargers
        self._learned: dict[str, timedelta] = {}

    def timeout(self, charger_id: str) -> timedelta:
        """The charger's timeout: learned, or the default."""
        return self._learned.get(charger_id, self.default)

    def observe_call(self, charger_id: str, action: str, payload: dict[str, Any], answer: dict[str, Any]) -> None:
        """Learn from a command the server sent and the charger's answer (a CallResult payload)."""
        found: str | None = None
        if action == "GetVariables":
            found = _last(_v201_results(answer.get("getVariableResult"), "attributeStatus"))
        elif action == "SetVariables":
            accepted = {_variable_key(r) for r in _dicts(answer.get("setVariableResult"))
                        if r.get("attributeStatus") in _ACCEPTED}  # fmt: skip
            found = _last(d.get("attributeValue") for d in _dicts(payload.get("setVariableData"))
                          if _variable_key(d) in accepted and _is_timeout(d))  # fmt: skip
        elif action == "GetConfiguration":
            found = _last(k.get("value") for k in _dicts(answer.get("configurationKey")) if k.get("key") == V16_KEY)
        elif action == "ChangeConfiguration" and payload.get("key") == V16_KEY and answer.get("status") in _ACCEPTED:
            found = payload.get("value")
        self._learn(charger_id, found)

    def observe_report(self, charger_id: str, report_data: list[Any]) -> None:
        """Learn from a NotifyReport's ``reportData``."""
        values = (
            attribute.get("value")
            for item in _dicts(report_data) if _is_timeout(item)
            for attribute in _dicts(item.get("variableAttribute"))
            if attribute.get("type", "Actual") == "Actual"
        )  # fmt: skip
        self._learn(charger_id, _last(values))

    def _learn(self, charger_id: str, value: object) -> None:
        seconds = _seconds(value)
        if seconds is None:
            return
        self._learned.pop(charger_id, None)
        if len(self._learned) >= self._max:
            del self._learned[next(iter(self._learned))]
        self._learned[charger_id] = timedelta(seconds=seconds)


def _dicts(items: object) -> Iterator[dict[str, Any]]:
    return (item for item in (items if isinstance(items, list) else []) if isinstance(item, dict))


def _name(value: object) -> object:
    return value.get("name") if isinstance(value, dict) else None


def _is_timeout(item: dict[str, Any]) -> bool:
    return _name(item.get("component")) == V201_COMPONENT and _name(item.get("variable")) == V201_VARIABLE


def _variable_key(item: dict[str, Any]) -> tuple[object, object, object]:
    return _name(item.get("component")), _name(item.get("variable")), item.get("attributeType", "Actual")


def _v201_results(results: object, status_field: str) -> Iterator[object]:
    for result in _dicts(results):
        actual = result.get("attributeType", "Actual") == "Actual"
        if _is_timeout(result) and actual and result.get(status_field) == "Accepted":
            yield result.get("attributeValue")


def _last(values: Iterable[object]) -> str | None:
    found = None
    for value in values:
        if isinstance(value, str):
            found = value
    return found


def _seconds(value: object) -> int | None:
    """A timeout in whole seconds, as the specs give it, at most :data:`LONGEST`; None for anything else
    (negative, not a number)."""
    digits = value.strip() if isinstance(value, str) else ""
    if not digits.isascii() or not digits.isdigit():
        return None
    longest = int(LONGEST.total_seconds())
    return longest if len(digits) > len(str(longest)) else min(int(digits), longest)
