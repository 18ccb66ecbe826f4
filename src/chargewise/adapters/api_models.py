"""REST request and response models (msgspec Structs) and the OpenAPI document generated from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from chargewise import __version__
from chargewise.domain.model import Charger, IdToken, MeterValue, Transaction
from chargewise.services.connections import CallOutcome, Link


class Problem(msgspec.Struct, kw_only=True):
    error: str


class Health(msgspec.Struct, kw_only=True):
    status: str
    connected_chargers: int


class ConnectorView(msgspec.Struct, kw_only=True):
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    updated_at: datetime


class BootView(msgspec.Struct, kw_only=True):
    vendor: str
    model: str
    serial_number: str | None
    firmware_version: str | None
    reason: str | None


class ChargerView(msgspec.Struct, kw_only=True):
    id: str
    registration: str
    ocpp_version: str | None
    connected: bool
    last_seen: datetime | None
    offline_since: datetime | None
    boot: BootView | None
    connectors: list[ConnectorView]
    quirks: list[str]
    quirk_counts: dict[str, int]
    password_set: bool


class NewCharger(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    password: str | None = None
    registration: str = "Accepted"


class CallRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: str
    payload: dict[str, Any] = {}


class CallView(msgspec.Struct, kw_only=True):
    action: str
    result: dict[str, Any] | None
    error: dict[str, Any] | None


class SampleView(msgspec.Struct, kw_only=True):
    timestamp: datetime
    measurand: str
    value: float
    unit: str | None
    phase: str | None
    context: str | None
    location: str | None


class TransactionView(msgspec.Struct, kw_only=True):
    id: int
    charger_id: str
    evse_id: int
    connector_id: int
    id_tag: str | None
    remote_id: str | None
    started_at: datetime
    stopped_at: datetime | None
    active: bool
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float | None
    stop_reason: str | None
    provisional: bool  # a reaper's stop: the charger's own, if it comes, replaces it
    meter_samples: list[SampleView] | None = None


class NewToken(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id_tag: str
    status: str = "Accepted"
    expires_at: datetime | None = None
    parent_id_tag: str | None = None


class TokenView(msgspec.Struct, kw_only=True):
    id_tag: str
    status: str
    expires_at: datetime | None
    parent_id_tag: str | None


def charger_view(c: Charger, link: Link | None) -> ChargerView:
    boot = c.boot
    return ChargerView(
        id=c.id, registration=c.registration.value, ocpp_version=c.ocpp_version.value if c.ocpp_version else None,
        connected=link is not None, last_seen=link.last_seen if link is not None else c.last_seen,
        offline_since=None if link is not None else c.offline_since,
        boot=BootView(vendor=boot.vendor, model=boot.model, serial_number=boot.serial_number,
                      firmware_version=boot.firmware_version, reason=boot.reason) if boot else None,
        connectors=[ConnectorView(evse_id=s.evse_id, connector_id=s.connector_id, status=s.status.value,
                                  error_code=s.error_code, updated_at=s.updated_at) for s in c.connectors],
        quirks=list(c.quirks), quirk_counts=dict(link.quirk_counts) if link is not None else {},
        password_set=c.password_hash is not None,
    )  # fmt: skip


def transaction_view(tx: Transaction, values: list[MeterValue] | None) -> TransactionView:
    return TransactionView(
        id=tx.id, charger_id=tx.charger_id, evse_id=tx.evse_id, connector_id=tx.connector_id, id_tag=tx.id_tag,
        remote_id=tx.remote_id, started_at=tx.started_at, stopped_at=tx.stopped_at, active=tx.active,
        meter_start_wh=tx.meter_start_wh, meter_stop_wh=tx.meter_stop_wh, energy_wh=tx.energy_wh,
        stop_reason=tx.stop_reason, provisional=tx.provisional,
        meter_samples=None if values is None else [
            SampleView(timestamp=v.timestamp, measurand=s.measurand, value=s.value, unit=s.unit, phase=s.phase,
                       context=s.context, location=s.location) for v in values for s in v.sampled
        ],
    )  # fmt: skip


def call_view(outcome: CallOutcome) -> CallView:
    if outcome.ok:
        return CallView(action=outcome.action, result=outcome.payload, error=None)
    error = {"code": outcome.error_code, "description": outcome.error_description, "details": outcome.error_details}
    return CallView(action=outcome.action, result=None, error=error)


def token_view(t: IdToken) -> TokenView:
    return TokenView(id_tag=t.id_tag, status=t.status.value, expires_at=t.expires_at, parent_id_tag=t.parent_id_tag)


# ---------------------------------------------------------------------- OpenAPI
_ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    # path, method, summary, request body, response model, other statuses
    ("/healthz", "get", "Liveness and connected-charger count", None, Health, {}),
    ("/api/v1/chargers", "get", "All known chargers", None, list[ChargerView], {}),
    ("/api/v1/chargers", "post", "Add a charger (with a password: profile 1/2)", NewCharger, ChargerView,
     {400: "invalid body, registration or password (16-40 characters)", 409: "exists"}),
    ("/api/v1/chargers/{id}", "get", "One charger with its connectors", None, ChargerView, {404: "unknown"}),
    ("/api/v1/chargers/{id}", "delete", "Remove a charger (closes its link)", None, None, {404: "unknown"}),
    ("/api/v1/chargers/{id}/approve", "post", "Accept a pending charger", None, ChargerView, {404: "unknown"}),
    ("/api/v1/chargers/{id}/calls", "post", "Send an OCPP command; returns the charger's CallResult or CallError",
     CallRequest, CallView, {400: "invalid payload", 409: "charger offline", 504: "charger did not answer"}),
    ("/api/v1/transactions", "get", "Transactions, newest first (?charger_id=&active=true|false)", None,
     list[TransactionView], {}),
    ("/api/v1/transactions/{id}", "get", "One transaction with energy and meter samples", None, TransactionView,
     {404: "unknown"}),
    ("/api/v1/tokens", "get", "Id tokens", None, list[TokenView], {}),
    ("/api/v1/tokens", "post", "Add or replace an id token", NewToken, TokenView, {400: "invalid body or status"}),
]  # fmt: skip


def openapi_document() -> dict[str, Any]:
    types = [t for route in _ROUTES for t in (route[3], route[4]) if t is not None] + [Problem]
    schemas, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    refs = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for path, method, summary, request, response, others in _ROUTES:
        op: dict[str, Any] = {"summary": summary, "responses": {}}
        if "{id}" in path:
            op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
        if request is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[request]}}}
        ok_status = "201" if method == "post" and request in (NewCharger, NewToken) else "200"
        if response is None:
            op["responses"]["204"] = {"description": "done"}
        else:
            op["responses"][ok_status] = {
                "description": "ok",
                "content": {"application/json": {"schema": refs[response]}},
            }
        for status, text in others.items():
            op["responses"][str(status)] = {
                "description": text,
                "content": {"application/json": {"schema": refs[Problem]}},
            }
        if path.startswith("/api/"):
            op["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "chargewise", "version": __version__},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
