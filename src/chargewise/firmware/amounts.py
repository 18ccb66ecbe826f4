"""``N`` or ``P%`` of a group: batch sizes and failure thresholds."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from chargewise.firmware.errors import FirmwareError

_AMOUNT = re.compile(r"(\d{1,6})(%?)")


@dataclass(frozen=True, kw_only=True, slots=True)
class Amount:
    value: int
    percent: bool = False

    def of(self, total: int) -> int:
        """How many of ``total``: a percentage rounds up (10 % of 5 is 1, not 0)."""
        if not self.percent:
            return self.value
        return math.ceil(total * self.value / 100)

    def text(self) -> str:
        return f"{self.value}{'%' if self.percent else ''}"


def parse_amount(text: str, option: str, *, minimum: int = 0) -> Amount:
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        raise FirmwareError(option, f"{text[:20]!r} is neither a count nor a percentage", "write e.g. 10 or 20%")
    amount = Amount(value=int(match.group(1)), percent=bool(match.group(2)))
    if amount.percent and amount.value > 100:
        raise FirmwareError(option, f"{amount.text()} is over 100%", "give at most 100%")
    if amount.value < minimum:
        raise FirmwareError(option, f"{amount.text()} is below {minimum}", f"give at least {minimum}")
    return amount
