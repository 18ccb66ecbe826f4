"""What a route's OpenAPI operation needs beyond its request and response models: query parameters, paging,
its success status and CSV bodies. Each model module keeps its routes' extras in an ``EXTRAS`` dict keyed by
(method, path), and ``api_models.openapi_document`` reads them all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Extra:
    query: list[dict[str, Any]] = field(default_factory=list)  # OpenAPI parameter objects (in: query)
    paged: bool = False  # ?limit=&cursor=, X-Total-Count and Link headers
    status: str | None = None  # the success status when not 200 / 201 / 204 ("202")
    csv_in: bool = False  # the request body is text/csv
    csv_out: bool = False  # the answer is text/csv


def param(name: str, description: str, schema: dict[str, Any] | None = None, *, array: bool = False) -> dict[str, Any]:
    """An optional query parameter (``array``: repeatable, ``?key=a&key=b``)."""
    shape = schema or {"type": "string"}
    if array:
        shape = {"type": "array", "items": shape}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": shape,
            **({"style": "form", "explode": True} if array else {})}  # fmt: skip


TIME = {"type": "string", "format": "date-time"}
