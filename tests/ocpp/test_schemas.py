"""Schema validation: every catalogued action is compiled both ways, and a failure names its rule and place."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.schemas import CATALOGS, SchemaSet, Violation, schema_set

from .casefile import load, params, sample

VERSIONS = list(OcppVersion)
ALL_ACTIONS = [
    pytest.param(version, action, id=f"{version.value}-{action}")
    for version in VERSIONS
    for action in sorted(CATALOGS[version].CHARGER_ACTIONS | CATALOGS[version].CSMS_ACTIONS)
]


@pytest.mark.parametrize(("version", "action"), ALL_ACTIONS)
def test_every_action_has_request_and_response_validators(version: OcppVersion, action: str) -> None:
    schemas = schema_set(version)
    assert schemas.knows(action)
    # Every OCPP payload is a JSON object, so a list fails the root "type" rule of both compiled schemas.
    for check in (schemas.check_request, schemas.check_response):
        violation = check(action, [])
        assert violation is not None
        assert (violation.rule, violation.path, violation.definition) == ("type", (), "object")


def test_action_counts() -> None:
    assert len(ALL_ACTIONS) == 39 + 64


@pytest.mark.parametrize("version", VERSIONS, ids=[v.value for v in VERSIONS])
def test_catalog_lists_every_schema_the_version_ships(version: OcppVersion) -> None:
    catalog = CATALOGS[version]
    actions = catalog.CHARGER_ACTIONS | catalog.CSMS_ACTIONS
    request_files = {p for p in catalog.SCHEMA_DIR.glob("*.json") if not p.name.endswith("Response.json")}
    assert request_files == {catalog.request_schema(a) for a in actions}
    assert all(catalog.response_schema(a).is_file() for a in actions)
    both_ways = catalog.CHARGER_ACTIONS & catalog.CSMS_ACTIONS
    assert both_ways == {"DataTransfer"}
    assert catalog.VERSION is version


@pytest.mark.parametrize("version", VERSIONS, ids=[v.value for v in VERSIONS])
def test_schema_set_is_compiled_once_per_version(version: OcppVersion) -> None:
    assert schema_set(version) is schema_set(version)
    assert isinstance(schema_set(version), SchemaSet)
    assert schema_set(version).version is version
    assert not schema_set(version).knows("FlyToTheMoon")


def test_request_and_response_schemas_are_not_swapped() -> None:
    schemas = schema_set(OcppVersion.V16)
    request = schemas.check_request("BootNotification", {})
    response = schemas.check_response("BootNotification", {})
    assert request is not None and response is not None
    assert request.definition == ["chargePointVendor", "chargePointModel"]
    assert response.definition == ["status", "currentTime", "interval"]


@pytest.mark.parametrize("version", VERSIONS, ids=[v.value for v in VERSIONS])
def test_valid_meter_values_pass(version: OcppVersion) -> None:
    payload = sample(version.value, "MeterValues", "request")
    assert schema_set(version).check_request("MeterValues", payload) is None
    assert schema_set(version).check_response("MeterValues", {}) is None


@pytest.mark.parametrize("version", VERSIONS, ids=[v.value for v in VERSIONS])
def test_valid_boot_notification_passes_both_ways(version: OcppVersion) -> None:
    schemas = schema_set(version)
    assert schemas.check_request("BootNotification", sample(version.value, "BootNotification", "request")) is None
    assert schemas.check_response("BootNotification", sample(version.value, "BootNotification", "response")) is None


@pytest.mark.parametrize("case", params(load("violations.json")["cases"]))
def test_violation_reports_rule_and_path(case: dict[str, Any]) -> None:
    schemas = schema_set(OcppVersion(case["version"]))
    check = schemas.check_request if case["message"] == "request" else schemas.check_response
    violation = check(case["action"], case["payload"])
    assert isinstance(violation, Violation)
    assert violation.rule == case["rule"]
    assert violation.path == tuple(case["path"])
    assert violation.message.startswith("data")
    assert all(isinstance(part, str) for part in violation.path)


def test_enum_violation_carries_the_allowed_values() -> None:
    violation = schema_set(OcppVersion.V16).check_request(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}
    )
    assert violation is not None
    assert violation.definition == [
        "Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
        "Unavailable", "Faulted",
    ]  # fmt: skip


def test_additional_properties_violation_carries_the_object_schema() -> None:
    violation = schema_set(OcppVersion.V201).check_request(
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"vendorName": "Elektra", "model": "Wallbox-22", "color": "red"}},
    )
    assert violation is not None
    assert set(violation.schema["properties"]) == {"customData", "serialNumber", "model", "modem", "vendorName",
                                                   "firmwareVersion"}  # fmt: skip


def test_checking_does_not_change_the_payload() -> None:
    """A validator only judges. Filling schema defaults in would change what the charger said: here a voltage
    sample sent without a unit would come out with the schema's energy default ``"unit": "Wh"``."""
    payload = {
        "evseId": 1,
        "meterValue": [
            {
                "timestamp": "2024-05-01T10:15:00Z",
                "sampledValue": [{"value": 229.8, "measurand": "Voltage", "unitOfMeasure": {"multiplier": 0}}],
            }
        ],
    }
    sent = copy.deepcopy(payload)
    assert schema_set(OcppVersion.V201).check_request("MeterValues", payload) is None
    assert payload == sent
