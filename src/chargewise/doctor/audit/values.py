"""Small value parsers shared by the site file and the native inputs; each raises a one-line SiteError."""

from __future__ import annotations

import re

from chargewise.doctor.audit.errors import SiteError
from chargewise.doctor.audit.network import Band

_MAC = re.compile(r"[0-9a-f]{2}([:-]?)(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}")
BANDS = {"2.4": Band.GHZ_2_4, "5": Band.GHZ_5, "6": Band.GHZ_6}
UNIFI_BANDS = {"2g": Band.GHZ_2_4, "5g": Band.GHZ_5, "6g": Band.GHZ_6}


def normalise_mac(text: str, where: str, fix: str) -> str:
    """``4C-FC-AA-01-02-03`` -> ``4c:fc:aa:01:02:03``."""
    lowered = text.strip().lower()
    if not _MAC.fullmatch(lowered):
        raise SiteError(where, f'"{text}" is not a MAC address', fix)
    digits = re.sub(r"[:-]", "", lowered)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def parse_band(value: object, where: str) -> Band:
    """A site-file band: 2.4, 5 or 6 (a number or its text)."""
    text = f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
    if text not in BANDS:
        raise SiteError(where, f"unknown band {text!r}".replace("'", '"'), "use 2.4, 5 or 6")
    return BANDS[text]
