"""Checks for one value of a site file, each raising :class:`SiteFileError` with the field path and the fix."""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from chargewise.charging.site import PHASES


class SiteFileError(ValueError):
    """One line: ``path: what is wrong (the fix)``. Show it as it is."""


def known_keys(table: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(allowed)}"
            raise SiteFileError(f"{path}.{key}: unknown key ({hint})")


def table(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise SiteFileError(f"{path}: {value!r} is not a table (write [{path}] with keys under it)")
    return value


def number(value: Any, path: str, unit: str, *, minimum: float = 0.0, strict: bool = True) -> float:
    """A finite number >= ``minimum`` (> when ``strict``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SiteFileError(f"{path}: {value!r} is not a number (use {unit})")
    if value < minimum or (strict and value == minimum):
        word = "negative" if value < 0 else ("zero" if value == 0 else "too small")
        relation = ">" if strict else ">="
        raise SiteFileError(f"{path}: {value:g} is {word} (use {unit} {relation} {minimum:g})")
    return float(value)


def per_phase(value: Any, path: str) -> tuple[float, float, float]:
    """A current for every phase (one number) or one per phase ``[L1, L2, L3]``."""
    if isinstance(value, list):
        if len(value) != 3:
            raise SiteFileError(f"{path}: {len(value)} values (give one number, or three: [L1, L2, L3])")
        a, b, c = (number(v, f"{path}[{i}]", "a current in amps") for i, v in enumerate(value))
        return (a, b, c)
    each = number(value, path, "a current in amps")
    return (each, each, each)


def phase(value: Any, path: str) -> int:
    if value not in PHASES:
        raise SiteFileError(f"{path}: {value!r} is not a phase (use one of {', '.join(PHASES)})")
    return PHASES.index(value)


def wiring(value: Any, path: str) -> tuple[int, int, int]:
    """Where the charger's L1, L2, L3 land on the site: three distinct phases, or one (the others follow)."""
    if not isinstance(value, list) or len(value) not in (1, 3):
        raise SiteFileError(f'{path}: {value!r} is not a wiring (use e.g. ["L2", "L3", "L1"] or ["L2"])')
    first = [phase(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if len(set(first)) != len(first):
        raise SiteFileError(f"{path}: {value!r} uses a site phase twice (each of L1, L2, L3 once)")
    rest = [p for p in (first[0], first[0] + 1, first[0] + 2) if p % 3 not in first]
    full = first + [p % 3 for p in rest]
    return (full[0], full[1], full[2])


def choice(value: Any, path: str, options: tuple[str, ...]) -> str:
    if value not in options:
        close = difflib.get_close_matches(str(value), options, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SiteFileError(f"{path}: {value!r} is not allowed ({hint}use one of {', '.join(options)})")
    return str(value)


def moment(value: Any, path: str) -> datetime:
    """A TOML date-time with an offset (``2026-12-24T17:00:00+01:00``)."""
    parsed = value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value)
    if not isinstance(parsed, datetime) or parsed.tzinfo is None:
        shown = value.isoformat() if isinstance(value, datetime) else value
        raise SiteFileError(f"{path}: {shown!r} is not a date-time with offset (use 2026-12-24T17:00:00+01:00)")
    return parsed


def time_of_day(value: Any, path: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise SiteFileError(f'{path}: {value!r} is not a time of day (use "17:00")') from None


def integer(value: Any, path: str, options: tuple[int, ...] | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (options and value not in options):
        allowed = " or ".join(map(str, options)) if options else "a whole number"
        raise SiteFileError(f"{path}: {value!r} is not allowed (use {allowed})")
    return value


def flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise SiteFileError(f"{path}: {value!r} is not true or false")
    return value
