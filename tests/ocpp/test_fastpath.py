"""The msgspec fast accept must never accept what the JSON schema refuses (and should accept valid traffic)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.schemas import schema_set

CASES = Path(__file__).parent / "cases"
VALID: dict[str, dict[str, Any]] = {
    k: v for k, v in json.loads((CASES / "messages.json").read_text()).items() if k != "_about"
}
METER_201 = {"evseId": 1, "meterValue": [{"timestamp": "2026-11-25T18:00:00Z", "sampledValue": [
    {"value": 7.2, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW", "multiplier": 0},
     "phase": "L1", "context": "Sample.Periodic"}]}]}  # fmt: skip
TX_EVENT_201 = {"eventType": "Updated", "timestamp": "2026-11-25T18:00:00Z", "triggerReason": "MeterValuePeriodic",
                "seqNo": 3, "transactionInfo": {"transactionId": "t-1", "chargingState": "Charging"},
                "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": "AB12", "type": "ISO14443"},
                "meterValue": METER_201["meterValue"]}  # fmt: skip
EXTRA = {"2.0.1": {"MeterValues": {"request": METER_201}, "TransactionEvent": {"request": TX_EVENT_201}}}
ODD_VALUES: list[Any] = [None, True, False, 0, -1, 1.5, 10**12, "", "x", "x" * 600, [], {}, [1], {"a": 1},
                         "2026-11-25T18:00:00Z\n", "2026-13-45T99:99:99Z", "charging"]  # fmt: skip


def leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))


def mutations(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every value replaced by each odd value, every key deleted, an unknown key added at every object."""
    for path in leaves(payload):
        if not path:
            continue
        parent_path, key = path[:-1], path[-1]
        for odd in ODD_VALUES:
            changed = copy.deepcopy(payload)
            parent = changed
            for part in parent_path:
                parent = parent[part]
            parent[key] = odd
            yield changed
        removed = copy.deepcopy(payload)
        parent = removed
        for part in parent_path:
            parent = parent[part]
        del parent[key]
        yield removed
    for path in leaves(payload):
        added = copy.deepcopy(payload)
        node = added
        for part in path:
            node = node[part]
        if isinstance(node, dict):
            node["unexpectedProperty"] = 1
            yield added


def cases() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for version, actions in VALID.items():
        for action, pair in {**actions, **EXTRA.get(version, {})}.items():
            for direction, payload in pair.items():
                yield version, action, direction, payload


@pytest.mark.parametrize(
    ("version", "action", "direction", "payload"), list(cases()), ids=lambda x: x if isinstance(x, str) else ""
)
def test_fast_accept_is_sound_and_engaged(version: str, action: str, direction: str, payload: dict[str, Any]) -> None:
    schemas = schema_set(OcppVersion(version))
    checker = (schemas._requests if direction == "request" else schemas._responses).get(action)
    assert checker is not None and checker.fast is not None, f"{action} should have a fast path"
    assert checker.fast.accepts(payload), f"the fast path refuses a valid {action}"
    assert checker.check_fully(payload) is None
    tried = 0
    for mutated in mutations(payload):
        tried += 1
        if checker.fast.accepts(mutated):
            assert checker.check_fully(mutated) is None, (direction, action, mutated)
    assert tried >= 1  # an empty payload gets only the unexpected property
