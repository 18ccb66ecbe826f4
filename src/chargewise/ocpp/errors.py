"""Whose fault is it? Every failure in the protocol core is one of two kinds.

- :class:`RemoteProtocolError`: the peer sent something wrong. It carries an :class:`ErrorKind`, which
  :func:`error_code` turns into the CallError code the peer's OCPP version defines.
- :class:`LocalProtocolError`: we (or an operator through us) tried to send something the schema forbids.
  It is a bug or a bad request on our side; nothing is sent.

This is the one module that maps failures to OCPP CallError codes.
"""

from __future__ import annotations

import enum

from chargewise.domain.model import OcppVersion


class ErrorKind(enum.Enum):
    """Version-neutral failure kinds; see :data:`_CODES` for each version's spelling."""

    MALFORMED = "malformed"  # not JSON, not an array, unreadable message id
    MESSAGE_TYPE = "message-type"  # unknown MessageTypeId
    FORMAT = "format"  # well-formed RPC but the payload's structure is wrong (unexpected property, ...)
    PROTOCOL = "protocol"  # payload incomplete
    PROPERTY_CONSTRAINT = "property-constraint"  # a field has a value the schema does not allow
    OCCURRENCE_CONSTRAINT = "occurrence-constraint"  # a required field is missing / wrong cardinality
    TYPE_CONSTRAINT = "type-constraint"  # a field has the wrong JSON type
    NOT_IMPLEMENTED = "not-implemented"  # action unknown to the protocol version
    NOT_SUPPORTED = "not-supported"  # action known but not handled here
    SECURITY = "security"
    INTERNAL = "internal"
    GENERIC = "generic"


_V16 = {
    ErrorKind.MALFORMED: "FormationViolation",
    ErrorKind.MESSAGE_TYPE: "FormationViolation",
    ErrorKind.FORMAT: "FormationViolation",
    ErrorKind.PROTOCOL: "ProtocolError",
    ErrorKind.PROPERTY_CONSTRAINT: "PropertyConstraintViolation",
    ErrorKind.OCCURRENCE_CONSTRAINT: "OccurenceConstraintViolation",  # sic: OCPP-J 1.6 errata 5.1, not fixed
    ErrorKind.TYPE_CONSTRAINT: "TypeConstraintViolation",
    ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
    ErrorKind.NOT_SUPPORTED: "NotSupported",
    ErrorKind.SECURITY: "SecurityError",
    ErrorKind.INTERNAL: "InternalError",
    ErrorKind.GENERIC: "GenericError",
}
_V201 = {
    **_V16,
    ErrorKind.MALFORMED: "RpcFrameworkError",
    ErrorKind.MESSAGE_TYPE: "MessageTypeNotSupported",
    ErrorKind.FORMAT: "FormatViolation",
    ErrorKind.OCCURRENCE_CONSTRAINT: "OccurrenceConstraintViolation",
}
_CODES: dict[OcppVersion, dict[ErrorKind, str]] = {OcppVersion.V16: _V16, OcppVersion.V201: _V201}

# fastjsonschema rule name -> what kind of violation it is
_RULE_KINDS = {
    "required": ErrorKind.OCCURRENCE_CONSTRAINT,
    "minItems": ErrorKind.OCCURRENCE_CONSTRAINT,
    "maxItems": ErrorKind.OCCURRENCE_CONSTRAINT,
    "type": ErrorKind.TYPE_CONSTRAINT,
    "additionalProperties": ErrorKind.FORMAT,
}


def error_code(kind: ErrorKind, version: OcppVersion) -> str:
    """The CallError code string for ``kind`` in ``version``."""
    return _CODES[version][kind]


def known_error_codes(version: OcppVersion) -> frozenset[str]:
    """Codes a peer of ``version`` may legally send in a CallError."""
    codes = set(_CODES[version].values())
    if version is OcppVersion.V201:
        codes |= {"FormatViolation", "RpcFrameworkError", "MessageTypeNotSupported"}
    return frozenset(codes)


def kind_for_schema_rule(rule: str) -> ErrorKind:
    """Classify a JSON-schema rule that failed (enum, maxLength, format, pattern, ... are property values)."""
    return _RULE_KINDS.get(rule, ErrorKind.PROPERTY_CONSTRAINT)


class RemoteProtocolError(Exception):
    """The peer broke the protocol. Answer with :attr:`kind` as a CallError (id ``"-1"`` if unreadable), unless
    :attr:`message_type` says the broken message was itself an answer (3 or 4): answers are never answered."""

    def __init__(
        self, kind: ErrorKind, description: str, *, unique_id: str | None = None, message_type: int | None = None
    ) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description
        self.unique_id = unique_id
        self.message_type = message_type


class LocalProtocolError(Exception):
    """We tried to send something invalid. Fix the payload (or the code that built it); nothing was sent."""
