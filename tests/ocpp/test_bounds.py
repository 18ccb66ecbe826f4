"""Range checks after schema validation: each out-of-range number or time is refused by name, the largest
values in range pass, and every unbounded integer of every request is covered."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.schemas import schema_set
from chargewise.ocpp.session import CallReceived, MessageRejected, Role, Session

from .casefile import load, params, sample

CASES = load("bounds.json")


def receive(version: str, action: str, payload: Any) -> list[Any]:
    session = Session(version=OcppVersion(version), role=Role.CSMS)
    events = session.receive(json.dumps([2, "m1", action, payload]), 0.0)
    return [events, session.outgoing()]


@pytest.mark.parametrize("row", params(CASES["refused"]))
def test_out_of_range_is_a_property_constraint_violation_naming_the_field(row: dict[str, Any]) -> None:
    assert schema_set(OcppVersion(row["version"])).check_request(row["action"], row["payload"]) is None
    events, sent = receive(row["version"], row["action"], row["payload"])

    assert len(events) == 1 and isinstance(events[0], MessageRejected), events
    answer = json.loads(sent[0])
    assert answer[:3] == [4, "m1", "PropertyConstraintViolation"]
    assert answer[3].startswith(f"{row['field']}: "), answer[3]


@pytest.mark.parametrize("row", params(CASES["within"]))
def test_the_edges_of_each_range_are_accepted(row: dict[str, Any]) -> None:
    events, sent = receive(row["version"], row["action"], row["payload"])
    assert [type(e) for e in events] == [CallReceived] and sent == []


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("action", ["BootNotification", "Heartbeat", "MeterValues", "StatusNotification"])
def test_valid_samples_pass(version: str, action: str) -> None:
    events, _ = receive(version, action, sample(version, action, "request"))
    assert [type(e) for e in events] == [CallReceived]


def test_the_stall_is_refused_in_microseconds() -> None:
    frame = '[2,"1","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2026-12-01T00:00:00Z",' \
        '"sampledValue":[{"value":1.0,"unitOfMeasure":{"multiplier":10000000}}]}]}]'  # fmt: skip
    session = Session(version=OcppVersion.V201, role=Role.CSMS)
    started = time.process_time()
    events = session.receive(frame, 0.0)
    assert isinstance(events[0], MessageRejected) and time.process_time() - started < 0.05


def _integer_fields(schema: dict[str, Any], definitions: dict[str, Any], name: str = "") -> set[str]:
    if "$ref" in schema:
        return _integer_fields(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions, name)
    found = {name} if schema.get("type") == "integer" else set()
    for key, sub in schema.get("properties", {}).items():
        found |= _integer_fields(sub, definitions, key)
    if isinstance(schema.get("items"), dict):
        found |= _integer_fields(schema["items"], definitions, name)
    return found


@pytest.mark.parametrize("version", list(OcppVersion), ids=[v.value for v in OcppVersion])
def test_every_integer_of_every_request_is_bounded(version: OcppVersion) -> None:
    """Each integer field gets a value of 2^63 in an otherwise empty object at its place: the range check of
    the action (which runs after the schema check, so it may assume nothing else about the payload) must
    notice, whatever the field is called."""
    catalog = schema_set(version).catalog
    checked = 0
    for action in sorted(catalog.CHARGER_ACTIONS):
        schema = json.loads(catalog.request_schema(action).read_text(encoding="utf-8"))
        for field in _integer_fields(schema, schema.get("definitions", {})):
            payload = _with_value(schema, schema.get("definitions", {}), field, 2**63)
            assert payload is not None
            assert schema_set(version).check_bounds(action, payload) is not None, (action, field)
            checked += 1
    assert checked > 5


def _with_value(schema: dict[str, Any], definitions: dict[str, Any], field: str, value: int) -> Any:
    """The smallest nesting of objects and one-element arrays that puts ``value`` at ``field``."""
    if "$ref" in schema:
        return _with_value(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions, field, value)
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        inner = _with_value(schema["items"], definitions, field, value)
        return None if inner is None else [inner]
    for key, sub in schema.get("properties", {}).items():
        if key == field and sub.get("type") == "integer":
            return {key: value}
        inner = _with_value(sub, definitions, field, value)
        if inner is not None:
            return {key: inner}
    return None


@pytest.mark.parametrize("text", ["1e30", "inf", "-1e400"])
def test_numbers_coerced_by_leniency_are_range_checked_too(text: str) -> None:
    """A charger allowed numeric strings gets them parsed first: what they parse to is bounded all the same."""
    session = Session(version=OcppVersion.V201, role=Role.CSMS, quirks=frozenset({"numeric-strings"}))
    payload = {"evseId": 1, "meterValue": [{"timestamp": "2026-12-01T00:00:00Z", "sampledValue": [{"value": text}]}]}
    events = session.receive(json.dumps([2, "q1", "MeterValues", payload]), 0.0)
    assert isinstance(events[0], MessageRejected) and events[0].answer is not None
    assert events[0].answer.code == "PropertyConstraintViolation", events
