"""Leniency: each named quirk coerces what it names and reports it; strict rejects; nothing else slips through.

The scenarios live in ``cases/leniency.json``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.leniency import MAX_COERCIONS, QUIRKS, Check, UnknownQuirkError, check_quirks, conform
from chargewise.ocpp.schemas import schema_set

from .casefile import load, params, sample

CASES = load("leniency.json")


def checker(case: dict[str, Any]) -> Check:
    schemas = schema_set(OcppVersion(case["version"]))
    action = case["action"]
    if case["message"] == "request":
        return lambda payload: schemas.check_request(action, payload)
    return lambda payload: schemas.check_response(action, payload)


def test_the_six_documented_quirks() -> None:
    documented = {"long-strings", "enum-case", "unknown-enum-values", "non-string-values", "numeric-strings"}
    documented.add("extra-properties")
    assert documented == QUIRKS


def test_every_quirk_has_a_coercion_case_in_each_version() -> None:
    covered = {(q, c["version"]) for c in CASES["coerced"] if len(c["quirks"]) == 1 for q in c["quirks"]}
    assert covered == {(q, v.value) for q in QUIRKS for v in OcppVersion}


@pytest.mark.parametrize("case", params(CASES["coerced"]))
def test_quirk_coerces_and_reports(case: dict[str, Any]) -> None:
    payload = copy.deepcopy(case["payload"])
    violation, applied = conform(payload, checker(case), frozenset(case["quirks"]))
    assert violation is None
    assert payload == case["expected"]
    assert applied == case["applied"]


@pytest.mark.parametrize("case", params(CASES["coerced"]))
def test_strict_rejects_the_same_payload_untouched(case: dict[str, Any]) -> None:
    payload = copy.deepcopy(case["payload"])
    violation, applied = conform(payload, checker(case), frozenset())
    assert violation is not None
    assert (violation.rule, violation.path) == (case["strict"]["rule"], tuple(case["strict"]["path"]))
    assert applied == []
    assert payload == case["payload"]


@pytest.mark.parametrize("case", params([c for c in CASES["coerced"] if len(c["quirks"]) == 1]))
def test_no_other_quirk_stands_in(case: dict[str, Any]) -> None:
    payload = copy.deepcopy(case["payload"])
    violation, applied = conform(payload, checker(case), QUIRKS - set(case["quirks"]))
    assert violation is not None
    assert (violation.rule, violation.path) == (case["strict"]["rule"], tuple(case["strict"]["path"]))
    assert applied == []


@pytest.mark.parametrize("case", params(CASES["still_rejected"]))
def test_unrelated_violation_is_still_rejected(case: dict[str, Any]) -> None:
    violation, applied = conform(copy.deepcopy(case["payload"]), checker(case), frozenset(case["quirks"]))
    assert violation is not None
    assert (violation.rule, violation.path) == (case["rule"], tuple(case["path"]))
    assert applied == case.get("applied", [])


@pytest.mark.parametrize("version", list(OcppVersion), ids=[v.value for v in OcppVersion])
def test_conforming_payload_is_left_alone_with_every_quirk_on(version: OcppVersion) -> None:
    payload = sample(version.value, "MeterValues", "request")
    violation, applied = conform(payload, lambda p: schema_set(version).check_request("MeterValues", p), QUIRKS)
    assert (violation, applied) == (None, [])
    assert payload == sample(version.value, "MeterValues", "request")


def meter_values_with_lowercase_units(count: int) -> dict[str, Any]:
    sampled = [{"value": str(i), "unit": "wh"} for i in range(count)]
    return {"connectorId": 1, "meterValue": [{"timestamp": "2024-05-01T10:15:00Z", "sampledValue": sampled}]}


def check_v16_meter_values(payload: Any) -> Any:
    return schema_set(OcppVersion.V16).check_request("MeterValues", payload)


def test_coercions_up_to_the_budget_are_made() -> None:
    payload = meter_values_with_lowercase_units(MAX_COERCIONS)
    violation, applied = conform(payload, check_v16_meter_values, frozenset({"enum-case"}))
    assert violation is None
    assert applied == ["enum-case"] * MAX_COERCIONS
    assert {s["unit"] for s in payload["meterValue"][0]["sampledValue"]} == {"Wh"}


def test_a_payload_needing_more_than_the_budget_is_rejected() -> None:
    payload = meter_values_with_lowercase_units(MAX_COERCIONS + 1)
    violation, applied = conform(payload, check_v16_meter_values, frozenset({"enum-case"}))
    assert violation is not None
    assert (violation.rule, violation.path) == ("enum", ("meterValue", "0", "sampledValue", str(MAX_COERCIONS), "unit"))
    assert len(applied) == MAX_COERCIONS == 64


def test_check_quirks_returns_valid_names_in_order() -> None:
    assert check_quirks(["numeric-strings", "enum-case"]) == ("numeric-strings", "enum-case")
    assert check_quirks(()) == ()


def test_unknown_quirk_names_the_valid_ones() -> None:
    with pytest.raises(UnknownQuirkError) as caught:
        check_quirks(["enum-case", "lowercase-enums", "ignore-all"])
    message = str(caught.value)
    assert message == (
        "unknown quirk(s) ignore-all, lowercase-enums; valid: enum-case, extra-properties, long-strings, "
        "non-string-values, numeric-strings, unknown-enum-values"
    )
    assert isinstance(caught.value, ValueError)
