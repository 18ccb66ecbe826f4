"""Conversions between table rows and domain objects: the only place that knows both shapes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

import msgspec
from sqlalchemy import Row

from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import (
    BootInfo,
    Charger,
    ConnectorState,
    ConnectorStatus,
    IdToken,
    MeterSample,
    OcppVersion,
    Registration,
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
    )


def token(row: Row[Any]) -> IdToken:
    return IdToken(
        id_tag=row.id_tag,
        status=TokenStatus(row.status),
        expires_at=row.expires_at,
        parent_id_tag=row.parent_id_tag,
    )


class _Sampled(msgspec.Struct, omit_defaults=True):
    """One sampled value inside a ``meter_values`` row's JSON array."""

    measurand: str
    value: float
    unit: str | None = None
    phase: str | None = None
    context: str | None = None


_encode_sampled = msgspec.json.Encoder().encode
_decode_sampled = msgspec.json.Decoder(list[_Sampled]).decode


def samples(row: Row[Any]) -> list[MeterSample]:
    """The samples of one ``meter_values`` row, in the order they were reported."""
    return [
        MeterSample(
            charger_id=row.charger_id, evse_id=row.evse_id, transaction_id=row.transaction_id,
            timestamp=row.timestamp, measurand=v.measurand, value=v.value, unit=v.unit, phase=v.phase,
            context=v.context,
        )
        for v in _decode_sampled(row.sampled_values)
    ]  # fmt: skip


_VALUE_COLUMNS = "charger_id, evse_id, transaction_id, timestamp, sampled_values"
_VALUE_INSERT = {
    "sqlite": f"INSERT INTO meter_values ({_VALUE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
    "postgresql": f"INSERT INTO meter_values ({_VALUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)",
}


def sample_insert(dialect: str, samples: Sequence[MeterSample]) -> tuple[str, list[tuple[Any, ...]]]:
    """The driver-level INSERT for ``samples`` and its parameter tuples: one row per run of samples that share
    charger, EVSE, transaction and timestamp (one OCPP MeterValue). Timestamps are bound as ``UtcDateTime``
    binds them: ISO-8601 text with microseconds on SQLite, aware datetimes on PostgreSQL."""
    params: list[tuple[Any, ...]] = []
    run: list[_Sampled] = []
    first: MeterSample | None = None
    for s in samples:
        if first is not None and (
            s.timestamp != first.timestamp or s.transaction_id != first.transaction_id
            or s.evse_id != first.evse_id or s.charger_id != first.charger_id
        ):  # fmt: skip
            params.append(_value_row(dialect, first, run))
            run = []
        if not run:
            first = s
        run.append(_Sampled(s.measurand, s.value, s.unit, s.phase, s.context))
    if first is not None:
        params.append(_value_row(dialect, first, run))
    return _VALUE_INSERT[dialect], params


def _value_row(dialect: str, first: MeterSample, run: list[_Sampled]) -> tuple[Any, ...]:
    at: Any = first.timestamp
    if dialect == "sqlite":
        at = at.astimezone(UTC).isoformat(timespec="microseconds")
    return (first.charger_id, first.evse_id, first.transaction_id, at, _encode_sampled(run).decode())


def register_readings(samples: Sequence[MeterSample]) -> dict[int, float]:
    """The highest energy register reading per transaction (registers only count up).

    Per-phase readings (``phase`` set) are left out: the register of a transaction is the total.
    """
    highest: dict[int, float] = {}
    for s in samples:
        if s.transaction_id is None or s.measurand != ENERGY_REGISTER or s.phase is not None:
            continue
        if s.value > highest.get(s.transaction_id, float("-inf")):
            highest[s.transaction_id] = s.value
    return highest
