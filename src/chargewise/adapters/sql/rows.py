"""Conversions between table rows and domain objects: the only place that knows both shapes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Row

from chargewise.domain.model import (
    BootInfo,
    Charger,
    ConnectorState,
    ConnectorStatus,
    IdToken,
    MeterValue,
    OcppVersion,
    Registration,
    SampledValue,
    TokenStatus,
    Transaction,
)


def charger(row: Row[Any], connectors: list[ConnectorState]) -> Charger:
    version = row.ocpp_version
    return Charger(
        id=row.id,
        registration=Registration(row.registration),
        ocpp_version=None if version is None else OcppVersion(version),
        password_hash=row.password_hash,
        boot=None if row.vendor is None else boot(row),
        connected=bool(row.connected),
        last_seen=row.last_seen,
        offline_since=row.offline_since,
        quirks=tuple(json.loads(row.quirks)),
        connectors=connectors,
        security_profile=row.security_profile,
        previous_password_hash=row.previous_password_hash,
        pending_security_profile=row.pending_security_profile,
    )


def boot(row: Row[Any]) -> BootInfo:
    return BootInfo(
        vendor=row.vendor,
        model=row.model,
        serial_number=row.serial_number,
        firmware_version=row.firmware_version,
        reason=row.boot_reason,
    )


def connector(row: Row[Any]) -> ConnectorState:
    return ConnectorState(
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        status=ConnectorStatus(row.status),
        error_code=row.error_code,
        updated_at=row.updated_at,
    )


def group_connectors(rows: Iterable[Row[Any]]) -> dict[str, list[ConnectorState]]:
    """Connector states by charger id, in row order (query them sorted by charger, evse, connector)."""
    grouped: dict[str, list[ConnectorState]] = {}
    for row in rows:
        grouped.setdefault(row.charger_id, []).append(connector(row))
    return grouped


def transaction(row: Row[Any]) -> Transaction:
    return Transaction(
        id=row.id,
        charger_id=row.charger_id,
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        id_tag=row.id_tag,
        started_at=row.started_at,
        meter_start_wh=row.meter_start_wh,
        remote_id=row.remote_id,
        stopped_at=row.stopped_at,
        meter_stop_wh=row.meter_stop_wh,
        stop_reason=row.stop_reason,
        last_meter_wh=row.last_meter_wh,
        last_seq_no=row.last_seq_no,
        provisional=bool(row.provisional),
        ev_connected=bool(row.ev_connected),
        remote_start_id=row.remote_start_id,
    )


def token(row: Row[Any]) -> IdToken:
    return IdToken(
        id_tag=row.id_tag,
        status=TokenStatus(row.status),
        expires_at=row.expires_at,
        parent_id_tag=row.parent_id_tag,
    )


_encode_sampled = msgspec.json.Encoder().encode
_decode_sampled = msgspec.json.Decoder(tuple[SampledValue, ...]).decode


def meter_value(row: Row[Any]) -> MeterValue:
    return MeterValue(
        charger_id=row.charger_id, evse_id=row.evse_id, transaction_id=row.transaction_id, timestamp=row.timestamp,
        sampled=_decode_sampled(row.sampled_values),
    )  # fmt: skip


_VALUE_COLUMNS = "charger_id, evse_id, transaction_id, timestamp, sampled_values"
_VALUE_INSERT = {
    "sqlite": f"INSERT INTO meter_values ({_VALUE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
    "postgresql": f"INSERT INTO meter_values ({_VALUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)",
}


def meter_value_insert(dialect: str, values: Sequence[MeterValue]) -> tuple[str, list[tuple[Any, ...]]]:
    """The driver-level INSERT for ``values`` and its parameter tuples. Timestamps are bound as ``UtcDateTime``
    binds them: ISO-8601 text with microseconds on SQLite, aware datetimes on PostgreSQL; the sampled values
    as JSON text."""
    stamp = _iso if dialect == "sqlite" else _as_is
    params = [
        (v.charger_id, v.evse_id, v.transaction_id, stamp(v.timestamp), _encode_sampled(v.sampled).decode())
        for v in values
    ]
    return _VALUE_INSERT[dialect], params


def _as_is(at: datetime) -> datetime:
    return at


def _iso(at: datetime) -> str:
    """``UtcDateTime``'s SQLite text (the handlers' times are UTC already: skip the conversion then)."""
    return (at if at.tzinfo is UTC else at.astimezone(UTC)).isoformat(timespec="microseconds")


def register_readings(values: Sequence[MeterValue]) -> dict[int, float]:
    """The highest energy register reading per transaction (registers only count up)."""
    highest: dict[int, float] = {}
    for v in values:
        if v.transaction_id is None:
            continue
        register = v.register_wh()
        if register is not None and register > highest.get(v.transaction_id, float("-inf")):
            highest[v.transaction_id] = register
    return highest
