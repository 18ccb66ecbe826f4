"""The scenario files themselves: every frame a scenario makes the station send, and every answer it gives the CSMS,
is valid against the official OCPP schemas. A case that fails then fails for the CSMS's behaviour, never for a
malformed scenario (several cases wait for features that are being built; this keeps them honest meanwhile)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.schemas import schema_set

HERE = Path(__file__).parent
FILES = sorted(HERE.glob("v16/*.json")) + sorted(HERE.glob("v201/*.json"))
PLACEHOLDER = "$"  # "$tx": a value saved from an earlier answer, filled in when the scenario runs


def frames(path: Path) -> list[tuple[str, str, str, Any]]:
    """(case id, "request" or "response", action, payload) for each station frame in the file."""
    found = []
    for case in json.loads(path.read_text()):
        for step in case["steps"]:
            if "cs" in step:
                found.append((case["id"], "request", step["cs"], step.get("payload", {})))
            elif "csms" in step and "answer_error" not in step:
                found.append((case["id"], "response", step["csms"], step.get("answer", {"status": "Accepted"})))
                found.append((case["id"], "request", step["csms"], step.get("payload", {})))
    return found


def concrete(payload: Any) -> Any:
    """``payload`` with saved-value placeholders replaced by a value of the right kind (ids: integers in 1.6)."""
    if isinstance(payload, dict):
        return {k: 1 if v == "$tx" else concrete(v) for k, v in payload.items()}
    if isinstance(payload, str) and payload.startswith("$now"):
        return "2026-12-01T10:00:00Z"
    if isinstance(payload, list):
        return [concrete(v) for v in payload]
    return payload


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_frame_is_valid(path: Path) -> None:
    schemas = schema_set(OcppVersion.V16 if path.parent.name == "v16" else OcppVersion.V201)
    problems = []
    for case_id, kind, action, payload in frames(path):
        check = schemas.check_request if kind == "request" else schemas.check_response
        violation = check(action, concrete(payload))
        if violation is not None:
            problems.append(f"{case_id} {action} {kind}: {violation.message} at {list(violation.path)}")
    assert not problems, "\n".join(problems)


def test_case_ids_are_unique_octt_ids() -> None:
    ids = [case["id"] for path in FILES for case in json.loads(path.read_text())]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"TC_([A-N]_)?[0-9]{2,3}(_[0-9])?_CSMS(-[a-z]+)?", i) for i in ids), ids
