"""Range checks for the numbers and times the OCPP schemas leave unbounded, applied after schema validation.

The schemas say ``"type": "integer"`` and stop there: a conforming MeterValues may carry a connectorId of
2^63 (no SQL column holds it), a multiplier of 10^7 (``10 ** multiplier`` then stalls the event loop for
seconds), a value of 1e308 kWh (infinite once scaled to Wh) or a timestamp in year 1 at +01:00 (no UTC time
exists for it). Such a payload is the charger's fault: :meth:`Bounds.check` names the field, and the session answers
PropertyConstraintViolation before any handler sees it.

The bounds are data, in the tables below, keyed by field name (the same name means the same thing wherever
it appears in a version's messages). From them and a version's request schemas, :class:`Bounds` builds one
checker per action that visits only the fields that need a range check, written out as Python source and
compiled once (as fastjsonschema does with the schemas): a MeterValues costs a few dictionary look-ups per
sampled value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

INT4_MAX = 2**31 - 1  # a PostgreSQL ``integer`` column; SQLite's INTEGER (int64) holds it too
INT4 = (-INT4_MAX - 1, INT4_MAX)
ID = (0, INT4_MAX)  # identifiers are stored in int4 columns and are never negative
REGISTER = (-(2**53), 2**53)  # 1.6 meterStart/meterStop in Wh: exact as a float, far above any real register
MAGNITUDE = 1e15  # any decimal quantity (W, Wh, A, V, kWh...): finite, and finite after scaling by 10^9 x 1000

#: Integer fields by name; every other integer is bounded by :data:`INT4`.
INTEGER_BOUNDS: dict[str, tuple[int, int]] = {
    "connectorId": ID, "evseId": ID, "id": ID, "transactionId": ID, "reservationId": ID, "remoteStartId": ID,
    "requestId": ID, "seqNo": ID, "eventId": ID, "variableMonitoringId": ID,
    "multiplier": (-9, 9),  # a power of ten: nano to giga
    "amountMultiplier": (-9, 9),
    "meterStart": REGISTER, "meterStop": REGISTER,
}  # fmt: skip
#: Every ``number`` field: a decimal quantity.
NUMBER_BOUNDS = (-MAGNITUDE, MAGNITUDE)
#: String fields that carry a decimal number (1.6 sampled values): bounded like a number when they parse as
#: one; a string that does not (signed data) is left to the handler.
NUMERIC_STRINGS = frozenset({"value"})
#: Years a date-time may have: before 1970 no charger clock is set, and after 9998 (or in year 1 with a
#: positive offset) the UTC time does not exist.
YEARS = (1970, 9998)

# A pruned schema: only the parts that hold something to check.
Node = tuple[Any, ...]  # ("object", ((key, Node), ...)) | ("array", Node) | (leaf kind, low, high)
Checker = Callable[[Any], "tuple[str, Any, str] | None"]  # (where, value, rule) of the first value out of range


class Bounds:
    """The range checkers of one OCPP version's requests. Build once per version and process."""

    def __init__(self, schemas: dict[str, Path]) -> None:
        self._checkers: dict[str, Checker] = {}
        for action, path in schemas.items():
            schema = json.loads(path.read_text(encoding="utf-8"))
            node = _Pruner(schema.get("definitions", {})).node(schema, "")
            if node is not None:
                self._checkers[action] = compile_checker(node)

    def check(self, action: str, payload: Any) -> str | None:
        """Why ``payload`` (already valid against ``action``'s schema) is out of range, or None when it is not.
        Answer a non-None result with a PropertyConstraintViolation CallError and store nothing."""
        checker = self._checkers.get(action)
        failure = None if checker is None else checker(payload)
        if failure is None:
            return None
        where, value, rule = failure
        return f"{where}: {value!r} {rule}"[:255]


class _Pruner:
    """Turns a schema into a :data:`Node` tree; a subtree with nothing to check yields None (dropped)."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.depth = 0

    def node(self, schema: dict[str, Any], name: str) -> Node | None:
        if "$ref" in schema:
            schema = self.definitions.get(schema["$ref"].rsplit("/", 1)[-1], {})
        self.depth += 1
        try:
            if self.depth > 32:  # OCPP schemas are not recursive; a schema that were would get no check below
                return None
            return self._typed(schema, name)
        finally:
            self.depth -= 1

    def _typed(self, schema: dict[str, Any], name: str) -> Node | None:
        kind = schema.get("type")
        if kind == "object":
            fields = [(key, self.node(sub, key)) for key, sub in schema.get("properties", {}).items()]
            kept = tuple((key, child) for key, child in fields if child is not None)
            return ("object", kept) if kept else None
        if kind == "array" and isinstance(schema.get("items"), dict):
            item = self.node(schema["items"], name)
            return ("array", item) if item is not None else None
        if kind == "integer":
            low, high = INTEGER_BOUNDS.get(name, INT4)
            return ("range", max(low, schema.get("minimum", low)), min(high, schema.get("maximum", high)))
        if kind == "number":
            return ("range", *NUMBER_BOUNDS)
        if kind == "string" and schema.get("format") == "date-time":
            return ("year", *YEARS)
        if kind == "string" and name in NUMERIC_STRINGS and "enum" not in schema:
            return ("numeric-string", *NUMBER_BOUNDS)
        return None


def compile_checker(node: Node) -> Checker:
    """Write ``node`` out as one Python function and compile it."""
    lines = ["def check(x0):"]
    _emit(node, "x0", "", 1, lines, iter(range(1, 1000)))
    lines.append("    return None")
    namespace: dict[str, Any] = {"_number": _number}
    exec("\n".join(lines), namespace)  # the source was built above from the shipped schemas only
    checker: Checker = namespace["check"]
    return checker


def _emit(node: Node, var: str, where: str, depth: int, lines: list[str], names: Any) -> None:
    pad = "    " * depth
    kind = node[0]
    if kind == "object":
        for key, child in node[1]:
            inner = f"x{next(names)}"
            lines += [f"{pad}{inner} = {var}.get({key!r})", f"{pad}if {inner} is not None:"]
            _emit(child, inner, f"{where}.{key}" if where else key, depth + 1, lines, names)
    elif kind == "array":
        index, inner = f"i{next(names)}", f"x{next(names)}"
        lines.append(f"{pad}for {index}, {inner} in enumerate({var}):")
        _emit(node[1], inner, f"{where}[{{{index}}}]", depth + 1, lines, names)
    else:
        test, rule = _leaf(kind, node[1], node[2], var)
        lines += [f"{pad}if not ({test}):", f"{pad}    return (f{where!r}, {var}, {rule!r})"]


def _leaf(kind: str, low: float, high: float, var: str) -> tuple[str, str]:
    if kind == "year":  # the schema check guaranteed four digits up front (see fastpath.DATE_TIME_SHAPE)
        return f"{low!r} <= int({var}[:4]) <= {high!r}", f"has a year outside {low} to {high}"
    bounds = f"{low!r} <= {{}} <= {high!r}"  # NaN fails too
    rule = f"is out of range ({_show(low)} to {_show(high)})"
    if kind == "numeric-string":  # a string that is not a decimal number (signed data) is left to the handler
        return bounds.format(f"_number({var})"), rule
    return bounds.format(var), rule


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _show(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() and abs(bound) < 1e12 else f"{bound:g}"
