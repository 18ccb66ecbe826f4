"""What a handler gets besides the payload."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError
from chargewise.services.central import CentralSystem

Payload = dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    charger_id: str
    version: OcppVersion
    central: CentralSystem
    now: datetime


Handler = Callable[[Context, Payload], Awaitable[Payload]]


def parse_time(value: str) -> datetime:
    """Parse an OCPP date-time (RFC 3339); a time without zone is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise RemoteProtocolError(ErrorKind.PROPERTY_CONSTRAINT, f"not an RFC 3339 date-time: {value!r}") from None
    except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC time
        raise RemoteProtocolError(ErrorKind.PROPERTY_CONSTRAINT, f"date-time out of range: {value!r}") from None


def format_time(moment: datetime) -> str:
    """UTC with millisecond precision and a Z, the form every charger parses."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_number(value: Any, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RemoteProtocolError(ErrorKind.PROPERTY_CONSTRAINT, f"{field}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise RemoteProtocolError(ErrorKind.PROPERTY_CONSTRAINT, f"{field}: {value!r} is not a finite number")
    return number
