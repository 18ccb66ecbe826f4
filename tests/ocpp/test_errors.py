"""Whose fault, and how each OCPP version spells it.

The expected codes are the CallError tables of the specifications: OCPP-J 1.6 section 4.2.3 (table 7, whose
typos "FormationViolation" and "OccurenceConstraintViolation" the 1.6 errata sheet, section 5, keeps on purpose)
and OCPP 2.0.1 part 4 section 4.3.
"""

from __future__ import annotations

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.errors import (
    ErrorKind,
    LocalProtocolError,
    RemoteProtocolError,
    error_code,
    kind_for_schema_rule,
    known_error_codes,
)

V16, V201 = OcppVersion.V16, OcppVersion.V201

CODES = [
    # (kind, OCPP 1.6 code, OCPP 2.0.1 code)
    (ErrorKind.MALFORMED, "FormationViolation", "RpcFrameworkError"),
    (ErrorKind.MESSAGE_TYPE, "FormationViolation", "MessageTypeNotSupported"),
    (ErrorKind.FORMAT, "FormationViolation", "FormatViolation"),
    (ErrorKind.PROTOCOL, "ProtocolError", "ProtocolError"),
    (ErrorKind.PROPERTY_CONSTRAINT, "PropertyConstraintViolation", "PropertyConstraintViolation"),
    (ErrorKind.OCCURRENCE_CONSTRAINT, "OccurenceConstraintViolation", "OccurrenceConstraintViolation"),
    (ErrorKind.TYPE_CONSTRAINT, "TypeConstraintViolation", "TypeConstraintViolation"),
    (ErrorKind.NOT_IMPLEMENTED, "NotImplemented", "NotImplemented"),
    (ErrorKind.NOT_SUPPORTED, "NotSupported", "NotSupported"),
    (ErrorKind.SECURITY, "SecurityError", "SecurityError"),
    (ErrorKind.INTERNAL, "InternalError", "InternalError"),
    (ErrorKind.GENERIC, "GenericError", "GenericError"),
]
SPEC_CODES = {
    V16: {code for _, code, _ in CODES},
    V201: {code for _, _, code in CODES},
}


def test_code_table_covers_every_kind() -> None:
    assert {kind for kind, _, _ in CODES} == set(ErrorKind)


@pytest.mark.parametrize(("kind", "v16", "v201"), CODES, ids=[kind.value for kind, _, _ in CODES])
def test_error_code_per_version(kind: ErrorKind, v16: str, v201: str) -> None:
    assert error_code(kind, V16) == v16
    assert error_code(kind, V201) == v201


def test_known_codes_are_exactly_the_spec_tables() -> None:
    assert len(SPEC_CODES[V16]) == 10
    assert len(SPEC_CODES[V201]) == 12
    assert known_error_codes(V16) == SPEC_CODES[V16]
    assert known_error_codes(V201) == SPEC_CODES[V201]


@pytest.mark.parametrize("code", ["RpcFrameworkError", "MessageTypeNotSupported", "FormatViolation"])
def test_codes_new_in_201_are_not_16_codes(code: str) -> None:
    assert code in known_error_codes(V201)
    assert code not in known_error_codes(V16)


def test_formation_violation_is_the_16_spelling_only() -> None:
    assert "FormationViolation" in known_error_codes(V16)
    assert "FormationViolation" not in known_error_codes(V201)


RULES = [
    ("required", ErrorKind.OCCURRENCE_CONSTRAINT),
    ("minItems", ErrorKind.OCCURRENCE_CONSTRAINT),
    ("maxItems", ErrorKind.OCCURRENCE_CONSTRAINT),
    ("type", ErrorKind.TYPE_CONSTRAINT),
    ("additionalProperties", ErrorKind.FORMAT),
    ("enum", ErrorKind.PROPERTY_CONSTRAINT),
    ("maxLength", ErrorKind.PROPERTY_CONSTRAINT),
    ("minLength", ErrorKind.PROPERTY_CONSTRAINT),
    ("format", ErrorKind.PROPERTY_CONSTRAINT),
    ("pattern", ErrorKind.PROPERTY_CONSTRAINT),
    ("minimum", ErrorKind.PROPERTY_CONSTRAINT),
    ("maximum", ErrorKind.PROPERTY_CONSTRAINT),
    ("multipleOf", ErrorKind.PROPERTY_CONSTRAINT),
    ("", ErrorKind.PROPERTY_CONSTRAINT),
]


@pytest.mark.parametrize(("rule", "kind"), RULES, ids=[rule or "no-rule" for rule, _ in RULES])
def test_schema_rule_maps_to_kind(rule: str, kind: ErrorKind) -> None:
    assert kind_for_schema_rule(rule) is kind


@pytest.mark.parametrize(
    ("rule", "v16", "v201"),
    [
        ("required", "OccurenceConstraintViolation", "OccurrenceConstraintViolation"),
        ("type", "TypeConstraintViolation", "TypeConstraintViolation"),
        ("additionalProperties", "FormationViolation", "FormatViolation"),
        ("maxLength", "PropertyConstraintViolation", "PropertyConstraintViolation"),
    ],
)
def test_schema_rule_to_wire_code(rule: str, v16: str, v201: str) -> None:
    kind = kind_for_schema_rule(rule)
    assert (error_code(kind, V16), error_code(kind, V201)) == (v16, v201)


def test_remote_error_carries_kind_description_and_id() -> None:
    exc = RemoteProtocolError(ErrorKind.FORMAT, "CALL payload must be a JSON object", unique_id="42")
    assert (exc.kind, exc.description, exc.unique_id) == (ErrorKind.FORMAT, "CALL payload must be a JSON object", "42")
    assert str(exc) == "CALL payload must be a JSON object"
    assert RemoteProtocolError(ErrorKind.MALFORMED, "not JSON").unique_id is None


def test_the_two_faults_are_distinct_exceptions() -> None:
    assert not issubclass(LocalProtocolError, RemoteProtocolError)
    assert not issubclass(RemoteProtocolError, LocalProtocolError)
    assert str(LocalProtocolError("bad payload")) == "bad payload"
