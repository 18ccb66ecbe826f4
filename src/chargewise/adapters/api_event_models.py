"""The event stream in the OpenAPI document (``adapters/http_events.py``): its parameters, its SSE format and
the JSON of one event."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from chargewise.services.events import Kind

KindName = Literal["connection", "status", "meter", "transaction", "allocation", "finding", "firmware", "command"]


class EventView(msgspec.Struct, kw_only=True):
    """One event, the ``data:`` of an SSE message (``id:`` is ``seq``, ``event:`` is ``kind``)."""

    seq: int  # increasing per server process; the Last-Event-ID to resume from
    kind: KindName
    at: datetime
    charger_id: str | None
    data: dict[str, Any]  # per kind: see services/events.py (Kind)


class DroppedNotice(msgspec.Struct, kw_only=True):
    """The ``data:`` of an ``event: dropped`` message: events this stream lost; re-read the state via REST."""

    dropped: int
    reason: Literal["slow", "expired", "restarted"]
    message: str
    fix: str


FORMAT = (
    "Server-sent events (text/event-stream), one message per event:\n\n"
    '    id: 42\n    event: status\n    data: {"seq": 42, "kind": "status", ...}\n\n'
    "`data` is an EventView. An `event: dropped` message (data: DroppedNotice) says events were lost: the "
    "stream was read too slowly, a resume reached back past the kept events, or the server restarted. A comment "
    "line (`: keep-alive`) comes every 15 s on an idle stream. Resume with the `Last-Event-ID` header "
    "(EventSource sends it on reconnect) or `?last_event_id=`."
)
PARAMETERS = [
    {"name": "kinds", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "comma-separated kinds to receive (" + ", ".join(k.value for k in Kind) + "); default all"},
    {"name": "chargers", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "comma-separated charger ids; default all"},
    {"name": "last_event_id", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0},
     "description": "replay the kept events newer than this id first (0: every kept event)"},
    {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "integer", "minimum": 0},
     "description": "as last_event_id, and taking precedence (what EventSource sends when it reconnects)"},
    {"name": "access_token", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "the bearer token, for clients that cannot send headers (browsers' EventSource)"},
]  # fmt: skip


SSE_EVENT = {"type": "object", "properties": {"event": {"type": "string"}, "data": {"type": "string"},
                                             "id": {"type": "string"}, "retry": {"type": "integer"}}}  # fmt: skip


def add_event_stream(document: dict[str, Any]) -> None:
    """Describe ``GET /api/v1/events`` in ``document`` (an OpenAPI 3.1 document built by ``api_models``)."""
    schemas, components = msgspec.json.schema_components([EventView, DroppedNotice],
                                                         ref_template="#/components/schemas/{name}")  # fmt: skip
    document["components"]["schemas"].update(components)
    document["components"]["securitySchemes"]["access_token"] = {"type": "apiKey", "in": "query",
                                                                 "name": "access_token"}  # fmt: skip
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    document["paths"]["/api/v1/events"] = {"get": {
        "summary": "Live events (connections, statuses, meter values, transactions, allocation, findings) as SSE",
        "description": FORMAT,
        "parameters": PARAMETERS,
        "security": [{"bearer": []}, {"access_token": []}],
        "responses": {
            "200": {"description": "an endless event stream", "content": {"text/event-stream": {
                # each server-sent event (OpenAPI 3.2's shape for text/event-stream); its data is JSON:
                # x-event-data for the events, x-dropped-data for ``event: dropped``
                "schema": SSE_EVENT, "x-event-data": schemas[0], "x-dropped-data": schemas[1]}}},
            "400": {"description": "unknown kind or query parameter, bad Last-Event-ID", "content": problem},
            "401": {"description": "missing or wrong bearer token", "content": problem},
            "403": {"description": "the token's role may not read this", "content": problem},
            "503": {"description": "no event hub in this process", "content": problem},
        },
    }}  # fmt: skip
