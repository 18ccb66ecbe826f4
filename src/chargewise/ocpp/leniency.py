"""Per-charger leniency: named deviations from the schemas that a charger's profile says to accept.

Real chargers break the schemas in a handful of recurring ways. A charger whose profile lists a quirk gets
the matching coercion instead of a CallError; every coercion is reported back (and counted by the caller),
never applied silently. Strict (no quirks) is the default.

=====================  ================================================================================
quirk                  what is accepted, and how it is coerced
=====================  ================================================================================
long-strings           a string over its maxLength: truncated to the limit
enum-case              an enum value in the wrong letter case (``charging``): the canonical spelling
unknown-enum-values    an enum value the schema does not know (a vendor measurand or unit): kept as sent
non-string-values      a number or boolean where a string is due (configuration values): ``str(value)``
numeric-strings        a number sent as a string (``"connectorId": "1"``): parsed
extra-properties       properties the schema does not define: dropped
=====================  ================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chargewise.ocpp.schemas import Violation

QUIRKS = frozenset(
    {
        "long-strings",
        "enum-case",
        "unknown-enum-values",
        "non-string-values",
        "numeric-strings",
        "extra-properties",
    }
)
MAX_COERCIONS = 64  # per message; a payload needing more is rejected as it is


class UnknownQuirkError(ValueError):
    """A charger profile named a quirk that does not exist; the message lists the valid ones."""


def check_quirks(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate quirk names from configuration; raise :class:`UnknownQuirkError` naming the valid set."""
    unknown = sorted(set(names) - QUIRKS)
    if unknown:
        raise UnknownQuirkError(f"unknown quirk(s) {', '.join(unknown)}; valid: {', '.join(sorted(QUIRKS))}")
    return tuple(names)


Check = Callable[[Any], Violation | None]


def conform(payload: Any, check: Check, quirks: frozenset[str]) -> tuple[Violation | None, list[str]]:
    """Validate ``payload``, coercing in place what ``quirks`` allow.

    Returns ``(violation, applied)``: ``violation`` is None when the (possibly coerced) payload conforms;
    ``applied`` names each coercion made, in order, so the caller can count them.
    """
    applied: list[str] = []
    restore: list[tuple[Any, Any, Any]] = []
    violation = check(payload)
    while violation is not None and quirks and len(applied) < MAX_COERCIONS:
        quirk = _coerce(payload, violation, quirks, restore)
        if quirk is None:
            break
        applied.append(quirk)
        violation = check(payload)
    for container, key, original in restore:  # unknown enum values go back once the rest conforms
        container[key] = original
    return violation, applied


def _coerce(payload: Any, v: Violation, quirks: frozenset[str], restore: list[tuple[Any, Any, Any]]) -> str | None:
    parent, key = _locate(payload, v.path)
    if parent is None:
        return None
    value = parent if key is None else parent[key]
    if v.rule == "maxLength" and "long-strings" in quirks and isinstance(value, str):
        parent[key] = value[: int(v.definition)]
        return "long-strings"
    if v.rule == "enum" and isinstance(value, str):
        canonical = {str(e).lower(): e for e in v.definition}.get(value.lower())
        if canonical is not None and "enum-case" in quirks:
            parent[key] = canonical
            return "enum-case"
        if canonical is None and "unknown-enum-values" in quirks:
            restore.append((parent, key, value))
            parent[key] = v.definition[0]
            return "unknown-enum-values"
    if v.rule == "type":
        return _coerce_type(parent, key, value, str(v.definition), quirks)
    if v.rule == "additionalProperties" and "extra-properties" in quirks and isinstance(value, dict):
        allowed = set((v.schema or {}).get("properties", {}))
        for extra in [k for k in value if k not in allowed]:
            del value[extra]
        return "extra-properties"
    return None


def _coerce_type(parent: Any, key: Any, value: Any, expected: str, quirks: frozenset[str]) -> str | None:
    if key is None:
        return None
    if expected == "string" and "non-string-values" in quirks and isinstance(value, int | float | bool):
        parent[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return "non-string-values"
    if expected in ("integer", "number") and "numeric-strings" in quirks and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        parent[key] = int(number) if expected == "integer" and number.is_integer() else number
        return "numeric-strings"
    return None


def _locate(payload: Any, path: tuple[str, ...]) -> tuple[Any, Any]:
    """Return ``(container, key)`` of the value at ``path`` (``(payload, None)`` for the root)."""
    if not path:
        return payload, None
    node = payload
    try:
        for part in path[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last: Any = int(path[-1]) if isinstance(node, list) else path[-1]
        node[last]
    except (KeyError, IndexError, ValueError, TypeError):
        return None, None
    return node, last
