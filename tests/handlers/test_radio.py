"""The open table of vendor radio reports and the RSSI in a WeakSignal ``info``; cases in ``cases/vendor_radio.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chargewise.handlers.radio import info_rssi, vendor_radio

CASES = json.loads((Path(__file__).parent / "cases" / "vendor_radio.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['vendor']}/{c['message']}/{c['status']}")
def test_vendor_radio_reports(case: dict[str, Any]) -> None:
    status, reading = vendor_radio(case["vendor"], case["message"], case["data"])
    assert status == case["status"]
    if status == "Accepted":
        assert reading is not None and (reading.rssi_dbm, reading.bssid) == (case["rssi"], case["bssid"])
    else:
        assert reading is None


def test_info_names_an_rssi_or_not() -> None:
    assert info_rssi("RSSI -77 dBm") == -77.0
    assert info_rssi("signal -80.5dBm") == -80.5
    assert info_rssi("weak") is None
    assert info_rssi(None) is None
