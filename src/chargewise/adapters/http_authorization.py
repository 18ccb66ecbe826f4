"""REST for local authorization lists and reservations. Thin: parse, call ``LocalLists`` / ``Reservations``,
render ``api_fleet_models``; refusals are ``AdminError``s or Problems with the fix."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp import web

from chargewise.adapters import api_fleet_models as m
from chargewise.adapters.http_common import body, ok, problem
from chargewise.fleet.local_list import CachePolicy, HeldList
from chargewise.fleet.reservations import Reservation
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.connections import CallTimeout, ChargerOffline, NotAccepted
from chargewise.services.local_lists import ListNotPushed, LocalLists, PushResult
from chargewise.services.reservations import Reservations

LISTS: web.AppKey[LocalLists | None] = web.AppKey("chargewise-local-lists")
RESERVATIONS: web.AppKey[Reservations | None] = web.AppKey("chargewise-reservations")
POLICIES = ", ".join(p.value for p in CachePolicy)


def _lists(request: web.Request) -> LocalLists:
    lists = request.app[LISTS]
    if lists is None:
        raise NotFound("local lists are not served here", fix="ask the server process that serves the chargers")
    return lists


def _reservations(request: web.Request) -> Reservations:
    found = request.app[RESERVATIONS]
    if found is None:
        raise NotFound("reservations are not served here", fix="ask the server process that serves the chargers")
    return found


def _failed(exc: Exception) -> web.Response:
    if isinstance(exc, ChargerOffline):
        return problem(409, str(exc), "retry when the charger is connected (GET /api/v1/chargers/{id})")
    if isinstance(exc, NotAccepted):
        return problem(409, str(exc), "approve the charger, then wait for its BootNotification")
    if isinstance(exc, ListNotPushed):
        message, _, fix = str(exc).partition("; ")
        return problem(409, message, fix or "check the charger")
    return problem(504, str(exc), "retry; check the charger's connection if it keeps happening")


FAILURES = (ChargerOffline, NotAccepted, CallTimeout, ListNotPushed)


def push_view(result: PushResult) -> m.PushView:
    return m.PushView(charger_id=result.charger_id, ok=True, version=result.version, left_out=list(result.left_out),
                      sent=[m.SentView(update_type=s.kind.value, version=s.version, entries=s.entries, status=s.status)
                            for s in result.sent], cache_cleared=result.cache_cleared)  # fmt: skip


def held_view(held: HeldList) -> m.HeldListView:
    entries = None if held.entries is None else [
        m.HeldEntryView(id_tag=tag, status=e.status, expires_at=e.expires_at, parent_id_tag=e.parent)
        for tag, e in sorted(held.entries.items())]  # fmt: skip
    return m.HeldListView(charger_id=held.charger_id, version=held.version, entries=entries,
                          cache_policy=held.cache_policy.value, updated_at=held.updated_at)  # fmt: skip


def reservation_view(r: Reservation, request: web.Request) -> m.ReservationView:
    now = _reservations(request).clock.now()
    return m.ReservationView(id=r.id, charger_id=r.charger_id, evse_id=r.evse_id, id_tag=r.id_tag,
                             parent_id_tag=r.parent_id_tag, expires_at=r.expires_at, status=r.status_at(now).value,
                             created_at=r.created_at, updated_at=r.updated_at,
                             transaction_id=r.transaction_id)  # fmt: skip


# ---------------------------------------------------------------------- local lists
async def get_list(request: web.Request) -> web.Response:
    return ok(held_view(await _lists(request).held(request.match_info["id"])))


async def push(request: web.Request) -> web.Response:
    lists, charger_id = _lists(request), request.match_info["id"]
    full = (await body(request, m.PushRequest)).full
    version = dict(lists.connected()).get(charger_id)
    if version is None:
        return _failed(ChargerOffline(f"charger {charger_id!r} is not connected"))
    try:
        return ok(push_view(await lists.push(charger_id, version, full=full)))
    except FAILURES as exc:
        return _failed(exc)


async def push_all(request: web.Request) -> web.Response:
    lists = _lists(request)
    full = (await body(request, m.PushRequest)).full
    views = []
    for charger_id, result in await lists.push_all(full=full):
        if isinstance(result, PushResult):
            views.append(push_view(result))
        else:
            views.append(m.PushView(charger_id=charger_id, ok=False, version=None, sent=[], left_out=[],
                                    cache_cleared=False, error=str(result) or type(result).__name__))  # fmt: skip
    return ok(views)


async def set_cache_policy(request: web.Request) -> web.Response:
    lists, charger_id = _lists(request), request.match_info["id"]
    text = (await body(request, m.CachePolicyRequest)).policy
    try:
        policy = CachePolicy(text)
    except ValueError:
        raise InvalidRequest(f"policy {text[:40]!r} is unknown", fix=f"give one of {POLICIES}") from None
    await lists.set_cache_policy(charger_id, policy)
    return ok(held_view(await lists.held(charger_id)))


# ---------------------------------------------------------------------- reservations
async def reserve(request: web.Request) -> web.Response:
    found, charger_id = _reservations(request), request.match_info["id"]
    asked = await body(request, m.ReservationRequest)
    if (asked.expires_at is None) == (asked.minutes is None):
        raise InvalidRequest("give either expires_at or minutes", fix='e.g. {"id_tag": "CARD1", "minutes": 30}')
    if asked.minutes is not None and not 0 < asked.minutes <= 7 * 24 * 60:  # before timedelta can overflow
        raise InvalidRequest("minutes: a reservation must end in the next 7 days", fix="give 1 to 10080 minutes")
    expires = asked.expires_at or found.clock.now() + timedelta(minutes=asked.minutes or 0)
    try:
        r = await found.reserve(charger_id, evse_id=asked.evse_id, id_tag=asked.id_tag, expires_at=expires,
                                parent_id_tag=asked.parent_id_tag)  # fmt: skip
    except FAILURES as exc:
        return _failed(exc)
    return ok(reservation_view(r, request), 201)


async def list_reservations(request: web.Request) -> web.Response:
    unknown = sorted(set(request.query) - {"charger_id"})
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0][:40]!r}", fix="use charger_id")
    found = await _reservations(request).list(request.query.get("charger_id") or None)
    return ok([reservation_view(r, request) for r in found])


def _id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not re.fullmatch(r"[0-9]{1,10}", text):
        raise InvalidRequest(f"reservation id {text[:40]!r} is not an integer", fix="give the id the listing shows")
    return int(text)


async def get_reservation(request: web.Request) -> web.Response:
    return ok(reservation_view(await _reservations(request).get(_id(request)), request))


async def cancel(request: web.Request) -> web.Response:
    try:
        r = await _reservations(request).cancel(_id(request))
    except FAILURES as exc:
        return _failed(exc)
    return ok(reservation_view(r, request))


def add_routes(app: web.Application, lists: LocalLists | None, reservations: Reservations | None) -> None:
    """Register the routes on ``app`` (bearer check and Problems as for the rest of the API); without the
    services they answer 404 "not served here"."""
    app[LISTS], app[RESERVATIONS] = lists, reservations
    r = app.router
    r.add_get("/api/v1/chargers/{id}/local-list", get_list)
    r.add_post("/api/v1/chargers/{id}/local-list", push)
    r.add_put("/api/v1/chargers/{id}/local-list/cache-policy", set_cache_policy)
    r.add_post("/api/v1/local-lists/push", push_all)
    r.add_post("/api/v1/chargers/{id}/reservations", reserve)
    r.add_get("/api/v1/reservations", list_reservations)
    r.add_get("/api/v1/reservations/{id}", get_reservation)
    r.add_post("/api/v1/reservations/{id}/cancel", cancel)
