"""Which chargers a campaign is for: ``vendor=...,model=...,firmware=...,site=...,charger=...``.

Each key may appear more than once (any of its values matches) and a value may hold shell wildcards
(``charger=work-*``); different keys must all match. An empty selector matches every charger. ``firmware``
is the version the charger booted with, ``site`` the name of a site file that lists the charger.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from chargewise.firmware.errors import FirmwareError

KEYS = ("vendor", "model", "firmware", "site", "charger")


@dataclass(frozen=True, kw_only=True, slots=True)
class Facts:
    """What a selector looks at about one charger."""

    charger_id: str
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    sites: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Selector:
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def text(self) -> str:
        return ",".join(f"{key}={value}" for key in KEYS for value in self.terms.get(key, ()))


def parse_selector(text: str | None) -> Selector:
    """``--select`` as a :class:`Selector`; a malformed term or unknown key is a :class:`FirmwareError`."""
    terms: dict[str, list[str]] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not value:
            raise FirmwareError("--select", f"{part[:40]!r} is not KEY=VALUE", "write e.g. vendor=Acme,model=AC22")
        if key not in KEYS:
            raise FirmwareError("--select", f"unknown key {key[:20]!r}", f"use {', '.join(KEYS)}")
        terms.setdefault(key, []).append(value)
    return Selector(terms={key: tuple(values) for key, values in terms.items()})


def _one(patterns: tuple[str, ...], value: str | None) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, p) for p in patterns)


def matches(selector: Selector, facts: Facts) -> bool:
    t = selector.terms
    return all((
        "charger" not in t or _one(t["charger"], facts.charger_id),
        "vendor" not in t or _one(t["vendor"], facts.vendor),
        "model" not in t or _one(t["model"], facts.model),
        "firmware" not in t or _one(t["firmware"], facts.firmware),
        "site" not in t or any(_one(t["site"], s) for s in facts.sites),
    ))  # fmt: skip


def select(selector: Selector, fleet: list[Facts]) -> list[Facts]:
    """The chargers of ``fleet`` the selector matches, in id order; none at all is a :class:`FirmwareError`."""
    chosen = sorted((f for f in fleet if matches(selector, f)), key=lambda f: f.charger_id)
    if not chosen:
        what = selector.text() or "(everything)"
        raise FirmwareError("--select", f"{what} matches no charger (of {len(fleet)} known)",
                            "check the values with `chargewise chargers list`; wildcards: charger=work-*")  # fmt: skip
    return chosen
