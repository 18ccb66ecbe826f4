"""What every REST module answers with: JSON bodies, Problems, and request bodies decoded into their model
(``http_api`` for chargers, tokens and transactions; ``http_sites`` for smart charging; ...).

A Problem is ``{"code", "message", "fix"}`` (plus ``field`` when one field is to blame, and ``error``, the
message again under the name clients of the first version read). A body that does not decode into its model is
refused 422 naming the field (:class:`InvalidBody`); so is any other refusal once the body was read (the API's
middleware, by :data:`BODY_READ`: a value the service refuses); a bad query parameter or path is 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from chargewise.adapters import api_models as m
from chargewise.services.admin_errors import InvalidRequest
from chargewise.services.connections import CallTimeout, ChargerOffline, NotAccepted
from chargewise.services.paging import Listing

T = TypeVar("T")
CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_body", 500: "internal",
         503: "unavailable", 504: "timeout"}  # fmt: skip
#: Set once the request's body was read: a refusal after that is the body's fault (422), before it the query's.
BODY_READ: web.RequestKey[bool] = web.RequestKey("chargewise-body-read", bool)
_AT = re.compile(r"at `\$\.?([^`]*)`")
_NAMED = re.compile(r"field `([^`]+)`")


class InvalidBody(InvalidRequest):
    """The request body is malformed: not JSON, or not the model (REST 422); ``field`` names the culprit."""

    def __init__(self, message: str, *, fix: str, field: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.field = field


def ok(model: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    body = msgspec.json.encode(model)
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


def problem(status: int, message: str, fix: str, *, code: str | None = None, field: str | None = None) -> web.Response:
    code = code or CODES.get(status, "invalid_request" if status < 500 else "internal")
    return ok(m.Problem(code=code, message=message, fix=fix, error=message, field=field), status)


def blamed_field(exc: msgspec.ValidationError) -> str | None:
    """The field a msgspec error names (``$.payload.type`` -> ``payload.type``; a missing or unknown one)."""
    text = str(exc)
    named = _NAMED.search(text)
    at = _AT.search(text)
    path = at.group(1) if at else ""
    if named:
        return f"{path}.{named.group(1)}" if path else named.group(1)
    return path or None


async def body(request: web.Request, model: type[T]) -> T:
    fix = "send the JSON object /openapi.json shows"
    request[BODY_READ] = True
    try:
        return msgspec.json.decode(await request.read(), type=model)
    except msgspec.ValidationError as exc:
        field = blamed_field(exc)
        raise InvalidBody(f"invalid request body: {exc}", fix=fix, field=field) from None
    except msgspec.DecodeError as exc:
        raise InvalidBody(f"invalid request body: {exc}", fix=fix) from None
    except RecursionError:
        raise InvalidBody("invalid request body: nested too deeply", fix="send a flatter JSON object") from None


def query(request: web.Request, allowed: Iterable[str], *, repeatable: Iterable[str] = ()) -> dict[str, str]:
    """The query parameters, refusing unknown ones (a misspelt ``limt`` would silently be ignored) and repeated
    ones but those in ``repeatable`` (read them with ``request.query.getall``)."""
    known, many = frozenset(allowed), frozenset(repeatable)
    unknown = sorted(set(request.query) - known)
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0][:40]!r}", fix=f"use {', '.join(sorted(known))}")
    for key in request.query:
        if key not in many and len(request.query.getall(key)) > 1:
            raise InvalidRequest(f"query parameter {key!r} given twice", fix="give it once")
    return {key: request.query[key] for key in request.query}


def flag(params: dict[str, str], name: str) -> bool | None:
    """A ``true`` / ``false`` query parameter (None when absent)."""
    text = params.get(name)
    if text not in (None, "true", "false"):
        raise InvalidRequest(f"{name} {text[:20]!r} is not true or false", fix=f"give {name}=true or {name}=false")
    return None if text is None else text == "true"


def listed(request: web.Request, listing: Listing[T], render: Callable[[T], Any]) -> web.Response:
    """A page as a JSON array, the total in ``X-Total-Count`` and the next page in ``Link: <...>; rel="next"``."""
    headers = {"X-Total-Count": str(listing.total)}
    if listing.next_cursor is not None:
        following = request.rel_url.update_query(limit=str(listing.limit), cursor=listing.next_cursor)
        headers["Link"] = f'<{following}>; rel="next"'
    return ok([render(item) for item in listing.items], headers=headers)


#: what a command to a live charger can end in besides its answer (``Registry.call``): see :func:`link_problem`
LINK_ERRORS = (ChargerOffline, NotAccepted, CallTimeout)


def link_problem(exc: ChargerOffline | NotAccepted | CallTimeout) -> web.Response:
    """The Problem for a command that did not reach the charger or got no answer, the same on every route."""
    if isinstance(exc, CallTimeout):
        return problem(504, str(exc), "retry; check the charger's connection if it keeps happening")
    if isinstance(exc, NotAccepted):
        return problem(409, str(exc), "approve the charger, then wait for its BootNotification")
    return problem(409, str(exc), "retry when the charger is connected (GET /api/v1/chargers/{id})")
