"""The event stream: ``GET /api/v1/events`` as server-sent events, from the event hub (``services/events.py``).

One SSE message per event: ``id:`` its sequence number, ``event:`` its kind, ``data:`` its JSON
(``Event.as_json``). Filters: ``?kinds=status,meter&chargers=A,B``. A reconnecting client sends
``Last-Event-ID`` (browsers' EventSource does it by itself) and gets the kept events newer than it first; a
first connection can ask for the same with ``?last_event_id=0``. A comment line every ``keepalive_s`` keeps
proxies and NAT tables from closing an idle stream. When events were lost, an ``event: dropped`` message says
how many and why (the listener read too slowly, the replay reached back past what the hub keeps, or the
server restarted): the client should then re-read the state from the REST routes.

Auth is the API's bearer token. Browsers' EventSource cannot send headers, so on this route only
``?access_token=`` stands for the ``Authorization`` header, put in before the API's bearer check (whatever
that check accepts, roles included, applies unchanged). Chosen over a login cookie: the dashboard keeps the
token in sessionStorage and sends it as a header everywhere else, so no cookie means no CSRF exposure on the
routes that act; the query form is accepted on this read-only route alone, and the server keeps no access log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec
from aiohttp import web

from chargewise.adapters.http_common import problem
from chargewise.services.admin_errors import InvalidRequest
from chargewise.services.events import Event, EventHub, Kind, Subscription

PATH = "/api/v1/events"
KEEPALIVE_S = 15.0  # a comment line on an idle stream this often
RETRY_MS = 3000  # how long EventSource waits before reconnecting
QUEUE = 1000  # events held for a listener that reads slowly; past that the oldest are dropped (and told)
PARAMETERS = frozenset({"kinds", "chargers", "last_event_id", "access_token"})
MAX_CHARGERS = 500
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, kw_only=True)
class EventsDeps:
    hub: EventHub | None
    keepalive_s: float = KEEPALIVE_S
    queue: int = QUEUE
    streams: set[Subscription] = field(default_factory=set)  # the open ones, ended at shutdown


EVENTS: web.AppKey[EventsDeps] = web.AppKey("chargewise-events")


def parse_kinds(text: str | None) -> frozenset[Kind]:
    """``status,meter`` -> those kinds; empty or absent: every kind."""
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    try:
        return frozenset(Kind(n) for n in names)
    except ValueError:
        bad = next(n for n in names if n not in {k.value for k in Kind})[:40]
        raise InvalidRequest(f"kinds: unknown kind {bad!r}", fix=f"use {', '.join(k.value for k in Kind)}") from None


def parse_chargers(text: str | None) -> frozenset[str]:
    names = frozenset(n.strip() for n in (text or "").split(",") if n.strip())
    if len(names) > MAX_CHARGERS:
        raise InvalidRequest(f"chargers: {len(names)} ids", fix=f"give at most {MAX_CHARGERS}, or none for all")
    return names


def parse_after(request: web.Request) -> int | None:
    """The last event the client saw: the ``Last-Event-ID`` header (a reconnect), else ``?last_event_id=``."""
    text, name = request.headers.get("Last-Event-ID"), "Last-Event-ID"
    if text is None:
        text, name = request.query.get("last_event_id"), "last_event_id"
    if text is None or text.strip() == "":
        return None
    if not text.strip().isdigit() or len(text) > 18:
        raise InvalidRequest(f"{name} {text[:20]!r} is not an event id", fix="give the id: of the last event seen")
    return int(text)


def replay_start(hub: EventHub, after: int) -> tuple[int, int, str | None]:
    """Where to replay from, how many events are gone and why: ``(after, missed, reason)``."""
    kept = hub.recent(10**9)  # every kept event (at most the hub's ``keep``)
    if not kept:
        return after, 0, None
    oldest, newest = kept[0].seq, kept[-1].seq
    if after > newest:  # an id from before a restart (sequence numbers start again with the process)
        return 0, 0, "restarted"
    if after < oldest - 1:
        return after, oldest - 1 - after, "expired"
    return after, 0, None


def frame(event: Event) -> bytes:
    data = msgspec.json.encode(event.as_json()).decode()
    return f"id: {event.seq}\nevent: {event.kind.value}\ndata: {data}\n\n".encode()


def notice(dropped: int, reason: str) -> bytes:
    why = {"slow": "the stream was read too slowly", "expired": "they are older than the events kept",
           "restarted": "the server restarted: event ids started again"}[reason]  # fmt: skip
    body = {"dropped": dropped, "reason": reason, "message": f"{dropped} events were lost: {why}" if dropped else why,
            "fix": "re-read the state from the REST routes"}  # fmt: skip
    return b"event: dropped\ndata: " + msgspec.json.encode(body) + b"\n\n"


@web.middleware
async def token_from_query(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On the stream's route, ``?access_token=`` becomes the Authorization header the API's check reads."""
    token = request.query.get("access_token")
    if request.path == PATH and token and "Authorization" not in request.headers:
        headers = request.headers.copy()
        headers["Authorization"] = f"Bearer {token}"
        request = request.clone(headers=headers)
    return await handler(request)


async def stream_events(request: web.Request) -> web.StreamResponse:
    deps = request.app[EVENTS]
    if deps.hub is None:
        return problem(503, "the event stream is not running here", "ask the server that serves the chargers")
    unknown = sorted(set(request.query) - PARAMETERS)
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0][:40]!r}", fix=f"use {', '.join(sorted(PARAMETERS))}")
    kinds, chargers = parse_kinds(request.query.get("kinds")), parse_chargers(request.query.get("chargers"))
    after, missed, reason = parse_after(request), 0, None
    if after is not None:
        after, missed, reason = replay_start(deps.hub, after)
    subscription = deps.hub.subscribe(kinds=kinds, chargers=chargers, after=after, maxsize=deps.queue)
    streams = deps.streams
    streams.add(subscription)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})  # fmt: skip
    try:
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n: chargewise events\n\n".encode())
        if reason is not None:
            await response.write(notice(missed, reason))
        await _pump(subscription, response, deps.keepalive_s, streams)
    except ConnectionResetError:  # the client went away (aiohttp's ClientConnectionResetError is one)
        pass
    finally:
        streams.discard(subscription)
        subscription.close()
    return response


async def _pump(subscription: Subscription, response: web.StreamResponse, keepalive_s: float,
                streams: set[Subscription]) -> None:  # fmt: skip
    """Write events as they come, a notice when some were dropped, a comment when idle; until shutdown."""
    told = 0
    while subscription in streams:
        event = await subscription.next(keepalive_s)
        if subscription.dropped > told:  # the queue overflowed while we were writing: say so, in order
            await response.write(notice(subscription.dropped - told, "slow"))
            told = subscription.dropped
        if event is not None:
            await response.write(frame(event))
        elif subscription in streams:
            await response.write(b": keep-alive\n\n")


async def _end_streams(app: web.Application) -> None:
    """At shutdown: end every open stream (else the server would wait for them)."""
    streams = app[EVENTS].streams
    for subscription in list(streams):
        streams.discard(subscription)
        subscription.close()


def add_routes(app: web.Application, hub: EventHub | None, *, keepalive_s: float = KEEPALIVE_S,
               queue: int = QUEUE) -> None:  # fmt: skip
    """Register the stream (with ``hub`` None it answers 503) and the query-token middleware, ahead of the
    API's own so that its bearer check sees the header."""
    app[EVENTS] = EventsDeps(hub=hub, keepalive_s=keepalive_s, queue=queue)
    app.middlewares.insert(0, token_from_query)
    app.on_shutdown.append(_end_streams)
    app.router.add_get(PATH, stream_events)
