"""REST models of fleet operations: log uploads, local authorization lists, reservations
(``adapters/http_logs.py``, ``adapters/http_authorization.py``), and their OpenAPI routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from chargewise.fleet.log_requests import LogRequest


class LogRequestBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: str = "diagnostics"  # diagnostics (1.6 GetDiagnostics, 2.0.1 DiagnosticsLog) or security (SecurityLog)


class LogFileView(msgspec.Struct, kw_only=True):
    name: str
    size: int
    sha256: str
    received_at: datetime


class LogStatusView(msgspec.Struct, kw_only=True):
    status: str
    at: datetime


class LogView(msgspec.Struct, kw_only=True):
    id: str
    charger_id: str
    kind: str
    action: str  # GetDiagnostics or GetLog
    request_id: int  # the GetLog requestId (0 for GetDiagnostics)
    requested_at: datetime
    expires_at: datetime  # the upload URL works until then
    status: str  # Requested, Accepted, Rejected, Uploading, Uploaded, UploadFailed, NotSent, Failed, ...
    status_at: datetime | None
    charger_filename: str | None
    history: list[LogStatusView]
    file: LogFileView | None  # set once the upload is stored: GET /api/v1/logs/{id}/file
    download: str | None  # the path to download it from


class UploadReceipt(msgspec.Struct, kw_only=True):
    id: str
    size: int
    sha256: str


def log_view(r: LogRequest) -> LogView:
    file = None if r.file is None else LogFileView(name=r.file.name, size=r.file.size, sha256=r.file.sha256,
                                                    received_at=r.file.received_at)  # fmt: skip
    return LogView(
        id=r.id, charger_id=r.charger_id, kind=r.kind.value, action=r.action, request_id=r.request_id,
        requested_at=r.requested_at, expires_at=r.expires_at, status=r.status, status_at=r.status_at,
        charger_filename=r.charger_filename, history=[LogStatusView(status=h.status, at=h.at) for h in r.history],
        file=file, download=f"/api/v1/logs/{r.id}/file" if file else None,
    )  # fmt: skip


UPLOAD_ERRORS = {400: "a multipart body without a file part", 403: "bad or expired token", 413: "larger than the limit"}
ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/chargers/{id}/logs", "post", "Ask the charger for its diagnostics or security log (1.6 GetDiagnostics, "
     "GetLog); it uploads to a URL of this server that expires after an hour", LogRequestBody, LogView,
     {400: "unknown kind", 409: "charger offline", 504: "charger did not answer"}),
    ("/api/v1/logs", "get", "Log requests, newest first (?charger_id=), with their status and file", None,
     list[LogView], {400: "unknown query parameter"}),
    ("/api/v1/logs/{id}", "get", "One log request", None, LogView, {404: "no such log"}),
    ("/api/v1/logs/{id}/file", "get", "The uploaded file (application/octet-stream)", None, None,
     {404: "no such log, or not uploaded yet"}),
    ("/uploads/{token}", "put", "Where a charger uploads a requested log: the raw body (the URL is the credential; "
     "it expires)", None, UploadReceipt, UPLOAD_ERRORS),
    ("/uploads/{token}", "post", "The same as multipart/form-data (the first file part) or a raw body", None,
     UploadReceipt, UPLOAD_ERRORS),
    ("/uploads/{token}/{name}", "put", "The same, the file name appended (a 1.6 location is a directory)", None,
     UploadReceipt, UPLOAD_ERRORS),
    ("/uploads/{token}/{name}", "post", "The same, the file name appended", None, UploadReceipt,
     UPLOAD_ERRORS),
]  # fmt: skip
UPLOADS = ("/uploads/{token}", "/uploads/{token}/{name}")


CREATED = (("/api/v1/chargers/{id}/logs", "post"), ("/api/v1/chargers/{id}/reservations", "post"))
BINARY = {"schema": {"type": "string", "format": "binary"}}


def amend(paths: dict[str, dict[str, Any]]) -> None:
    """What ``api_models._operation`` cannot say: a file download, and upload bodies that are not JSON."""
    file_op = paths.get("/api/v1/logs/{id}/file", {}).get("get")
    if file_op is not None:
        file_op["responses"].pop("204", None)
        file_op["responses"]["200"] = {"description": "the file", "content": {"application/octet-stream": BINARY}}
    for path, method in CREATED:
        op = paths.get(path, {}).get(method)
        if op is not None and "200" in op["responses"]:
            op["responses"]["201"] = op["responses"].pop("200")
    uploads = {"put": ["application/octet-stream"], "post": ["multipart/form-data", "application/octet-stream"]}
    for (method, types), path in ((item, path) for item in uploads.items() for path in UPLOADS):
        upload_op = paths.get(path, {}).get(method)
        if upload_op is not None:
            upload_op["requestBody"] = {"required": True, "content": dict.fromkeys(types, BINARY)}
            upload_op["responses"]["201"] = upload_op["responses"].pop("200")


# ---------------------------------------------------------------------- local lists
class PushRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    full: bool = False  # send the whole list, whatever the charger holds


class SentView(msgspec.Struct, kw_only=True):
    update_type: str  # Full or Differential
    version: int
    entries: int
    status: str  # the charger's answer


class PushView(msgspec.Struct, kw_only=True):
    charger_id: str
    ok: bool
    version: int | None  # the charger's list version afterwards
    sent: list[SentView]
    left_out: list[str]  # tags not listed: over LocalAuthListMaxLength, or too long for the version
    cache_cleared: bool
    error: str | None = None  # why it could not be pushed (push-all only; a single push answers a Problem)


class CachePolicyRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    policy: str  # clear-on-block (ClearCache when a token stops being Accepted) or keep


class HeldEntryView(msgspec.Struct, kw_only=True):
    id_tag: str
    status: str
    expires_at: datetime | None
    parent_id_tag: str | None


class HeldListView(msgspec.Struct, kw_only=True):
    charger_id: str
    version: int | None  # the last version the charger accepted from us (null: none yet)
    entries: list[HeldEntryView] | None
    cache_policy: str
    updated_at: datetime | None


# ---------------------------------------------------------------------- reservations
class ReservationRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Reserve an EVSE (1.6 connector; 0: the whole charger) for a token until ``expires_at`` (ISO 8601 with an
    offset) or for ``minutes`` from now (one of the two; at most 7 days)."""

    id_tag: str
    evse_id: int = 0
    expires_at: datetime | None = None
    minutes: float | None = None
    parent_id_tag: str | None = None


class ReservationView(msgspec.Struct, kw_only=True):
    id: int  # the OCPP reservationId
    charger_id: str
    evse_id: int
    id_tag: str
    parent_id_tag: str | None
    expires_at: datetime
    status: str  # Requested, Accepted, Faulted, Occupied, Rejected, Unavailable, NotSent, Cancelled, Used, Expired, ...
    created_at: datetime
    updated_at: datetime
    transaction_id: int | None


LIST_ERRORS = {409: "charger offline or its list cannot be pushed (disabled, refused)", 504: "no answer"}
RESERVATION_404 = {404: "no such reservation"}
AUTH_ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/chargers/{id}/local-list", "get", "What the charger's local list holds as far as we know, and its "
     "authorization cache policy", None, HeldListView, {}),
    ("/api/v1/chargers/{id}/local-list", "post", "Push the local authorization list (SendLocalList: Full first, "
     "then Differential) from the token store", PushRequest, PushView, {400: "invalid body", **LIST_ERRORS}),
    ("/api/v1/chargers/{id}/local-list/cache-policy", "put", "Set the charger's authorization cache policy",
     CachePolicyRequest, HeldListView, {400: "unknown policy"}),
    ("/api/v1/local-lists/push", "post", "Push the local list to every connected charger (each one's result)",
     PushRequest, list[PushView], {400: "invalid body"}),
    ("/api/v1/chargers/{id}/reservations", "post", "Reserve an EVSE for a token (ReserveNow)", ReservationRequest,
     ReservationView, {400: "invalid evse, id tag or expiry", 409: "charger offline", 504: "no answer"}),
    ("/api/v1/reservations", "get", "Reservations, newest first (?charger_id=)", None, list[ReservationView],
     {400: "unknown query parameter"}),
    ("/api/v1/reservations/{id}", "get", "One reservation", None, ReservationView, {400: "not an integer",
                                                                                     **RESERVATION_404}),
    ("/api/v1/reservations/{id}/cancel", "post", "Cancel a reservation (CancelReservation)", None, ReservationView,
     {400: "not an integer, or not holding", **RESERVATION_404, 409: "charger offline", 504: "no answer"}),
]  # fmt: skip
ROUTES += AUTH_ROUTES
