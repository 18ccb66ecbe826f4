"""The message trace's response model and its routes in the OpenAPI document (``adapters.http_trace``)."""

from __future__ import annotations

from typing import Any

import msgspec


class TraceFrame(msgspec.Struct, kw_only=True):
    at: str  # UTC, ISO 8601
    direction: str  # "in" (from the charger) or "out" (to it)
    frame: str  # the OCPP-J message as it went over the wire, credentials redacted


#: GET /api/v1/chargers/{id}/trace/stream (NDJSON that never ends: each new frame) is left out of the document
#: on purpose: a schema fuzzer would wait on it forever; it is described in the README and http_trace.
ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/chargers/{id}/trace", "get",
     "The charger's last OCPP frames, both directions, oldest first (?limit=N; ?format=ndjson downloads)", None,
     list[TraceFrame], {400: "bad limit or format", 404: "unknown charger"}),
]  # fmt: skip
