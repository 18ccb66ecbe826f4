"""Credentials never reach the message trace: the cases in cases/redaction.json, and the cheap pre-check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chargewise.ocpp.redaction import REDACTED, may_hold_credential, redact

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "cases" / "redaction.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_credential_is_redacted_and_the_rest_kept(case: dict[str, Any]) -> None:
    frame = json.dumps(case["frame"], separators=(",", ":")).encode()
    assert may_hold_credential(frame, outgoing=case["frame"][0] == 2) and may_hold_credential(frame)
    out = redact(frame).decode()
    assert case["secret"] not in out and case.get("also", case["secret"]) not in out
    assert REDACTED in out
    if "kept" in case:
        assert case["kept"] in out
    assert json.loads(out)[0] == case["frame"][0]  # still an OCPP-J message


def test_ordinary_frames_are_not_touched_and_broken_ones_with_a_credential_are_withheld() -> None:
    heartbeat = b'[2,"1","Heartbeat",{}]'
    meter = b'[2,"2","MeterValues",{"connectorId":1,"meterValue":[]}]'
    assert not may_hold_credential(heartbeat) and not may_hold_credential(meter)
    assert not may_hold_credential(b'[3,"1",{"currentTime":"2026-01-01T00:00:00Z"}]', outgoing=True)  # our answer
    spaced = b'[2, "9", "DataTransfer", {"vendorId": "x", "data": "password=abc"}]'
    assert may_hold_credential(spaced)  # not compact: scanned
    broken = b'[2,"3","ChangeConfiguration",{"key":"AuthorizationKey","value":"abc'
    assert may_hold_credential(broken)
    assert b"abc" not in redact(broken)
