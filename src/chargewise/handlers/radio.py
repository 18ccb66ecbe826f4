"""Radio reports in vendor messages: the open table of DataTransfer ``(vendorId, messageId)`` -> parser, and
the RSSI a 1.6 ``WeakSignal`` StatusNotification may carry in ``info``. Add a real vendor's message by adding
one line to :data:`VENDOR_RADIO` with a parser of its ``data``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class RadioReading:
    rssi_dbm: float
    bssid: str | None = None


def chargewise_rssi(data: str | None) -> RadioReading | None:
    """The simulator's report (``simulator/v16/dialect.py``): ``{"rssi": -71, "bssid": "02:00:00:00:00:01"}``."""
    try:
        parsed = json.loads(data or "")
        rssi = float(parsed["rssi"])
    except (ValueError, TypeError, KeyError):
        return None
    bssid = parsed.get("bssid")
    if not -130.0 <= rssi <= 0.0:  # an RSSI is a negative dBm figure (connectivity.md A)
        return None
    return RadioReading(rssi_dbm=rssi, bssid=bssid if isinstance(bssid, str) else None)


#: DataTransfer (vendorId, messageId) -> parser of ``data``; None from a parser answers the message Rejected
VENDOR_RADIO: dict[tuple[str, str], Callable[[str | None], RadioReading | None]] = {
    ("com.chargewise.net", "Rssi"): chargewise_rssi,
}
_VENDORS = frozenset(vendor for vendor, _ in VENDOR_RADIO)
_INFO_RSSI = re.compile(r"(-\d{2,3}(?:\.\d+)?)\s*dBm", re.IGNORECASE)


def vendor_radio(vendor_id: str, message_id: str | None, data: object) -> tuple[str, RadioReading | None]:
    """The DataTransfer answer status and the reading it carried, if it is one we know."""
    parser = VENDOR_RADIO.get((vendor_id, message_id or ""))
    if parser is None:
        return ("UnknownMessageId" if vendor_id in _VENDORS else "UnknownVendorId"), None
    reading = parser(data if isinstance(data, str) else json.dumps(data) if data is not None else None)
    return ("Accepted" if reading is not None else "Rejected"), reading


def info_rssi(info: str | None) -> float | None:
    """The RSSI in a StatusNotification's ``info`` ("RSSI -77 dBm"), if it names one."""
    found = _INFO_RSSI.search(info or "")
    return float(found.group(1)) if found else None
