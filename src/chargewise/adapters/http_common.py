"""What every REST module answers with: JSON bodies, Problems, and request bodies decoded into their model
(``http_api`` for chargers, tokens and transactions; ``http_sites`` for smart charging)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from aiohttp import web

from chargewise.adapters import api_models as m
from chargewise.services.admin_errors import InvalidRequest

T = TypeVar("T")


def ok(model: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    body = msgspec.json.encode(model)
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


def problem(status: int, message: str, fix: str) -> web.Response:
    return ok(m.Problem(error=message, fix=fix), status)


async def body(request: web.Request, model: type[T]) -> T:
    try:
        return msgspec.json.decode(await request.read(), type=model)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequest(f"invalid request body: {exc}", fix="send the JSON object /openapi.json shows") from None
    except RecursionError:
        raise InvalidRequest("invalid request body: nested too deeply", fix="send a flatter JSON object") from None
