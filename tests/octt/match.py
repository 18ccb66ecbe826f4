"""Expected-value matching for scenario files: a subset of the actual JSON, with a few placeholders.

``"<present>"`` any value; ``"<absent>"`` the key must be missing; ``"<time>"`` an RFC 3339 timestamp;
``"<int>"`` an integer; ``"<len:N>"`` a list of N items; ``"<one of:A|B>"`` one of those strings. Any other value must be equal; dicts match as subsets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

ABSENT = "<absent>"


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` differs from ``expected``, one line per difference (empty: it matches)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path or '.'}: expected an object, got {actual!r}"]
        found = []
        for key, want in expected.items():
            where = f"{path}.{key}" if path else key
            if want == ABSENT:
                found += [f"{where}: expected absent, got {actual[key]!r}"] if key in actual else []
            elif key not in actual:
                found.append(f"{where}: missing (expected {want!r})")
            else:
                found += mismatches(want, actual[key], where)
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        return [
            line
            for i, (w, a) in enumerate(zip(expected, actual, strict=True))
            for line in mismatches(w, a, f"{path}[{i}]")
        ]
    return [] if _scalar_matches(expected, actual) else [f"{path}: expected {expected!r}, got {actual!r}"]


def _scalar_matches(expected: Any, actual: Any) -> bool:
    if expected == "<present>":
        return True
    if expected == "<int>":
        return isinstance(actual, int) and not isinstance(actual, bool)
    if expected == "<time>":
        return isinstance(actual, str) and _is_time(actual)
    if isinstance(expected, str) and expected.startswith("<one of:"):
        return actual in expected[8:-1].split("|")
    if isinstance(expected, str) and expected.startswith("<len:"):
        return isinstance(actual, list) and len(actual) == int(expected[5:-1])
    return bool(expected == actual and type(expected) is type(actual)) or (
        isinstance(expected, float | int) and isinstance(actual, float | int) and not isinstance(actual, bool)
        and float(expected) == float(actual)
    )  # fmt: skip


def _is_time(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def pick(document: Any, dotted: str) -> Any:
    """The value at ``dotted`` (``a.b.0.c``) in ``document``."""
    for part in dotted.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document
