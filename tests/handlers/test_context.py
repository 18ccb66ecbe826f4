"""OCPP date-times and numbers as the handlers read and write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from chargewise.handlers.context import format_time, parse_number, parse_time
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-05-01T12:00:00Z", NOON),
        ("2024-05-01T12:00:00z", NOON),
        ("2024-05-01T12:00:00.250Z", NOON + timedelta(milliseconds=250)),
        ("2024-05-01T14:00:00+02:00", NOON),
        ("2024-05-01T12:00:00", NOON),  # no zone: taken as UTC
    ],
)
def test_parse_time(text: str, moment: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == moment
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["yesterday", "", "2024-13-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-01:00"]
)
def test_parse_time_refuses_non_dates(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as raised:
        parse_time(text)
    assert raised.value.kind is ErrorKind.PROPERTY_CONSTRAINT


def test_format_time_is_utc_milliseconds_with_z() -> None:
    assert format_time(NOON) == "2024-05-01T12:00:00.000Z"
    assert format_time(NOON + timedelta(microseconds=123_999)) == "2024-05-01T12:00:00.123Z"
    assert format_time(NOON.astimezone(timezone(timedelta(hours=-5)))) == "2024-05-01T12:00:00.000Z"


@pytest.mark.parametrize(("value", "number"), [("1234.5", 1234.5), (" 7 ", 7.0), (3, 3.0), ("-0.5", -0.5)])
def test_parse_number(value: object, number: float) -> None:
    assert parse_number(value, "x") == number


@pytest.mark.parametrize("value", ["abc", "", None, [1]])
def test_parse_number_refuses_non_numbers_naming_the_field(value: object) -> None:
    with pytest.raises(RemoteProtocolError, match=r"sampledValue\.value") as raised:
        parse_number(value, "sampledValue.value")
    assert raised.value.kind is ErrorKind.PROPERTY_CONSTRAINT


@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-Infinity"])
def test_parse_number_refuses_non_finite_values(value: str) -> None:
    # a register reading of NaN or infinity is no reading at all: storing it would poison energy_wh and the API
    with pytest.raises(RemoteProtocolError) as raised:
        parse_number(value, "sampledValue.value")
    assert raised.value.kind is ErrorKind.PROPERTY_CONSTRAINT
