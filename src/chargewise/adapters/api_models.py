"""REST request and response models (msgspec Structs) and the OpenAPI document generated from them."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from typing import Any

import msgspec

from chargewise import __version__
from chargewise.adapters import api_fleet_models
from chargewise.adapters.api_cert_models import ROUTES as CERT_ROUTES
from chargewise.adapters.api_charger_models import EXTRAS as CHARGER_EXTRAS
from chargewise.adapters.api_charger_models import ROUTES as CHARGER_ROUTES
from chargewise.adapters.api_charger_models import TRANSACTION_FILTERS
from chargewise.adapters.api_client_models import EXTRAS as CLIENT_EXTRAS
from chargewise.adapters.api_client_models import ROUTES as CLIENT_ROUTES
from chargewise.adapters.api_client_models import JobView
from chargewise.adapters.api_cluster_models import ROUTES as CLUSTER_ROUTES
from chargewise.adapters.api_event_models import add_event_stream
from chargewise.adapters.api_firmware_models import ROUTES as FIRMWARE_ROUTES
from chargewise.adapters.api_site_models import ROUTES as SITE_ROUTES
from chargewise.adapters.api_site_plan_models import ROUTES as SITE_PLAN_ROUTES
from chargewise.adapters.api_trace_models import ROUTES as TRACE_ROUTES
from chargewise.adapters.openapi_parts import Extra, param
from chargewise.doctor.explain import timeline
from chargewise.domain.model import IdToken, MeterValue, Transaction
from chargewise.services import link_summary
from chargewise.services.admin import ChargerOverview
from chargewise.services.connections import CallOutcome
from chargewise.services.doctor import Explained
from chargewise.services.paging import DEFAULT_LIMIT, MAX_LIMIT


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What is wrong (``code``: stable, for programs; ``message``: for people) and what to do instead (``fix``);
    ``field``: the request body's field to blame, if one is; ``error``: ``message`` again (the first version's
    name for it)."""

    code: str
    message: str
    fix: str
    error: str
    field: str | None = None


class Health(msgspec.Struct, kw_only=True):
    status: str
    connected_chargers: int


class ConnectorView(msgspec.Struct, kw_only=True):
    """``status`` is "Offline" while the charger is disconnected; ``last_status`` is what it last reported."""

    evse_id: int
    connector_id: int
    status: str
    last_status: str
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
    security_profile: int | None = None


class NewCharger(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    password: str | None = None
    registration: str = "Accepted"
    quirks: list[str] = []
    security_profile: int | None = None  # 1 or 2 need a password; 3 a client certificate naming the charger


class NewPassword(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    password: str


class NewQuirks(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    quirks: list[str]


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


class EvidenceView(msgspec.Struct, kw_only=True):
    at: datetime | None
    what: str
    value: str


class FindingView(msgspec.Struct, kw_only=True):
    """One root cause: ``cause`` in the doctor's stable vocabulary, with how sure it is, why and what to do."""

    cause: str
    confidence: float
    summary: str
    explanation: str
    fix: str
    evidence: list[EvidenceView]
    tells_apart: list[str]


class TimelineEntryView(msgspec.Struct, kw_only=True):
    at: datetime
    what: str  # connected, disconnected, refused, TLS failed, boot, status, Wi-Fi signal, security event, ...
    detail: str


class LinkSummaryView(msgspec.Struct, kw_only=True):
    connections: int
    disconnects: int
    reconnects_per_day: float | None
    ping_p50_ms: float | None
    ping_p95_ms: float | None
    ping_loss: float | None
    rssi_median_dbm: float | None
    rssi_min_dbm: float | None
    heartbeats: int
    addresses: list[str]


class DoctorView(msgspec.Struct, kw_only=True):
    """``GET /api/v1/chargers/{id}/doctor``: the findings, most likely first (never empty), and the timeline."""

    charger_id: str
    at: datetime
    since: datetime
    connected: bool
    cause: str
    findings: list[FindingView]
    link: LinkSummaryView
    timeline: list[TimelineEntryView]


def doctor_view(explained: Explained) -> DoctorView:
    s, d = explained.signals, explained.diagnosis
    findings = [
        FindingView(cause=f.cause.value, confidence=round(f.confidence, 2), summary=f.summary,
                    explanation=f.explanation, fix=f.fix, tells_apart=list(f.tells_apart),
                    evidence=[EvidenceView(at=e.at, what=e.what, value=e.value) for e in f.evidence])
        for f in d.findings
    ]  # fmt: skip
    summary = link_summary.summary(s, d.at)
    return DoctorView(
        charger_id=d.charger_id, at=d.at, since=s.since, connected=s.connected_now, cause=d.cause.value,
        findings=findings, link=LinkSummaryView(**{**asdict(summary), "addresses": list(summary.addresses)}),
        timeline=[TimelineEntryView(at=e.at, what=e.what, detail=e.detail) for e in timeline(s)],
    )  # fmt: skip


def charger_view(c: ChargerOverview) -> ChargerView:
    boot = c.boot
    return ChargerView(
        id=c.id, registration=c.registration.value, ocpp_version=c.ocpp_version.value if c.ocpp_version else None,
        connected=c.connected, last_seen=c.last_seen, offline_since=c.offline_since,
        boot=BootView(vendor=boot.vendor, model=boot.model, serial_number=boot.serial_number,
                      firmware_version=boot.firmware_version, reason=boot.reason) if boot else None,
        connectors=[ConnectorView(evse_id=r.evse_id, connector_id=r.connector_id, status=r.status,
                                  last_status=r.last_status.value, error_code=r.error_code, updated_at=r.updated_at)
                    for r in c.connectors],
        quirks=list(c.quirks), quirk_counts=dict(c.quirk_counts), password_set=c.password_set,
        security_profile=c.security_profile,
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
CHARGER_404 = {404: "no such charger"}
_ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    # path, method, summary, request body, response model, other statuses
    ("/healthz", "get", "Liveness and connected-charger count", None, Health, {}),
    ("/readyz", "get", "Readiness for a load balancer: 503 while draining or with the bus down", None, Health,
     {503: "draining (SIGTERM) or the cluster bus is down"}),
    ("/api/v1/chargers", "get", "Chargers, a page at a time, in code-point order of their ids", None,
     list[ChargerView], {400: "bad limit or cursor"}),
    ("/api/v1/chargers", "post", "Add a charger (with a password: profile 1/2; quirks: accepted deviations)",
     NewCharger, ChargerView, {422: "invalid body, id, registration, quirk or password (16-40 characters)",
                               409: "exists"}),
    ("/api/v1/chargers/{id}", "get", "One charger with its connectors", None, ChargerView, CHARGER_404),
    ("/api/v1/chargers/{id}", "delete", "Remove a charger (closes its link)", None, None, CHARGER_404),
    ("/api/v1/chargers/{id}/approve", "post", "Accept the charger: its next BootNotification is Accepted", None,
     ChargerView, CHARGER_404),
    ("/api/v1/chargers/{id}/pending", "post", "Put the charger back to Pending (closes its link if connected)",
     None, ChargerView, CHARGER_404),
    ("/api/v1/chargers/{id}/reject", "post", "Reject the charger (closes its link if connected)", None,
     ChargerView, CHARGER_404),
    ("/api/v1/chargers/{id}/password", "put", "Set the charger's HTTP Basic password (from its next connection)",
     NewPassword, ChargerView, {422: "invalid body or password (16-40 characters)", **CHARGER_404}),
    ("/api/v1/chargers/{id}/password", "delete", "Clear the charger's password (from its next connection)", None,
     ChargerView, CHARGER_404),
    ("/api/v1/chargers/{id}/quirks", "put", "Replace the schema deviations accepted from the charger ([]: strict)",
     NewQuirks, ChargerView, {422: "invalid body or unknown quirk", **CHARGER_404}),
    ("/api/v1/chargers/{id}/connectors", "get", "The charger's connectors with their status (Offline while it is "
     "disconnected; last_status: what it last reported)", None, list[ConnectorView], CHARGER_404),
    ("/api/v1/chargers/{id}/doctor", "get", "Why the charger is offline or flaky: the connectivity doctor's findings "
     "(cause, confidence, evidence, fix) and its link timeline (?since=24h|7d|ISO time, default 7 days)", None,
     DoctorView, {400: "bad since", **CHARGER_404}),
    ("/api/v1/chargers/{id}/calls", "post", "Send an OCPP command; returns the charger's CallResult or CallError",
     CallRequest, CallView, {422: "invalid body or payload (the action's OCPP schema)", 409: "charger offline",
                            504: "charger did not answer"}),
    ("/api/v1/transactions", "get", "Transactions, newest first, a page at a time; filtered by charger, active, "
     "id tag, site and start time", None, list[TransactionView], {400: "bad limit, cursor, active, site or time"}),
    ("/api/v1/transactions/{id}", "get", "One transaction with energy and meter samples", None, TransactionView,
     {400: "not an integer", 404: "no such transaction"}),
    ("/api/v1/tokens", "get", "Id tokens, a page at a time, in code-point order", None, list[TokenView],
     {400: "bad limit or cursor"}),
    ("/api/v1/tokens", "post", "Add or replace an id token", NewToken, TokenView,
     {422: "invalid body, id tag, status or expiry"}),
    ("/api/v1/tokens/{id}/block", "post", "Block an id token", None, TokenView, {404: "no such token"}),
]  # fmt: skip

OWN_EXTRAS = {
    ("get", "/api/v1/chargers"): Extra(paged=True),
    ("get", "/api/v1/tokens"): Extra(paged=True),
    ("get", "/api/v1/transactions"): Extra(paged=True, query=TRANSACTION_FILTERS),
    ("get", "/api/v1/chargers/{id}/doctor"): Extra(query=[param(
        "since", "a duration back from now (90m, 24h, 7d, 2w) or an ISO 8601 time")]),
    ("post", "/api/v1/chargers/{id}/calls"): Extra(query=[param(
        "async", "true: answer 202 with a job at once (GET /api/v1/jobs/{id} for the charger's answer)",
        {"type": "string", "enum": ["true", "false"]})]),
    ("post", "/api/v1/chargers"): Extra(status="201"),
    ("post", "/api/v1/tokens"): Extra(status="201"),
    ("post", "/api/v1/demand-response/events"): Extra(status="201"),
    ("post", "/api/v1/firmware/campaigns"): Extra(status="201"),
    ("post", "/api/v1/firmware/artifacts"): Extra(status="201"),
    ("get", "/api/v1/chargers/{id}/certificates"): Extra(query=[param(  # adapters/http_certs.py
        "type", "csms-root, manufacturer-root, v2g-root, mo-root or v2g-chain; repeatable")]),
}  # fmt: skip
EXTRAS = {**OWN_EXTRAS, **CLIENT_EXTRAS, **CHARGER_EXTRAS}
#: More than one success: (method, path) -> {status: (description, model)}
ALSO = {("post", "/api/v1/chargers/{id}/calls"): {"202": ("?async=true: the job, answered later", JobView)}}
PAGE_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False,
     "description": f"items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
    {"name": "cursor", "in": "query", "required": False,
     "description": "where the page starts: the cursor in the previous page's Link header (rel=next)",
     "schema": {"type": "string"}},
]  # fmt: skip
PAGE_HEADERS = {
    "X-Total-Count": {"description": "how many items match, on every page", "schema": {"type": "integer"}},
    "Link": {"description": 'the next page: `<URL>; rel="next"` (none on the last)', "schema": {"type": "string"}},
}
#: Answers every operation of a kind may give, besides its own.
SECURED = {
    401: "missing or wrong bearer token",
    403: "the token's role may not do this",
    503: "the database is busy (every connection taken): retry in a few seconds",
}
BAD_BODY = {422: "malformed body (the problem's field names the culprit), or a value refused"}
BAD_QUERY = {400: "a bad query parameter (unknown, malformed or out of range)"}


def _content(schema: Any, csv: bool) -> dict[str, Any]:
    return {"text/csv" if csv else "application/json": {"schema": {"type": "string"} if csv else schema}}


def _operation(path: str, method: str, summary: str, request: Any, response: Any, refs: dict[Any, Any]) -> Any:
    extra = EXTRAS.get((method, path), Extra())
    op: dict[str, Any] = {"summary": summary, "responses": {}}
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"{(\w+)}", path)]  # fmt: skip
    parameters += (PAGE_PARAMETERS if extra.paged else []) + extra.query
    if parameters:
        op["parameters"] = parameters
    if request is not None:
        op["requestBody"] = {"required": True, "content": _content(refs.get(request), extra.csv_in)}
    if response is None:
        op["responses"]["204"] = {"description": "done"}
    else:
        ok_status = extra.status or "200"
        answer: dict[str, Any] = {"description": "ok", "content": _content(refs.get(response), extra.csv_out)}
        if extra.paged:
            answer["headers"] = PAGE_HEADERS
        op["responses"][ok_status] = answer
    for status, (text, model) in ALSO.get((method, path), {}).items():
        op["responses"][status] = {"description": text, "content": _content(refs[model], False)}
    return op


def openapi_document() -> dict[str, Any]:
    routes = (_ROUTES + SITE_ROUTES + SITE_PLAN_ROUTES + FIRMWARE_ROUTES + api_fleet_models.ROUTES + CERT_ROUTES
              + CLIENT_ROUTES + CHARGER_ROUTES + CLUSTER_ROUTES
              + TRACE_ROUTES)  # fmt: skip
    models = [t for route in routes for t in (route[3], route[4]) if t is not None and t is not str]
    types = [*models, *(model for also in ALSO.values() for _, model in also.values()), Problem]
    schemas, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    refs = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for path, method, summary, request, response, others in routes:
        op = _operation(path, method, summary, request, response, refs)
        generic = {**(SECURED if path.startswith("/api/") else {}), **(BAD_BODY if request is not None else {}),
                   **(BAD_QUERY if any(p["in"] == "query" for p in op.get("parameters", [])) else {})}  # fmt: skip
        for status, text in {**generic, **others}.items():
            op["responses"][str(status)] = {
                "description": text,
                "content": {"application/json": {"schema": refs[Problem]}},
            }
        if path.startswith("/api/"):
            op["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = op
    api_fleet_models.amend(paths)
    document = {
        "openapi": "3.1.0",
        "info": {"title": "chargewise", "version": __version__},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
    add_event_stream(document)  # GET /api/v1/events (SSE), described by hand: not a JSON response
    return document
