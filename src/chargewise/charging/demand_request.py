"""A demand-response event as a person or a REST client writes it: a JSON object in, a ``DemandEvent`` out.

    {"id": "evening-1", "node": "main", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T18:00:00Z",
     "cap_kw": 40}

Exactly one of ``cap_kw`` (kW), ``shed`` (a fraction 0..1, with ``shed_basis`` ``limit`` (default) or
``baseline``) or ``price_per_kwh`` (with an optional ``currency``). Optional ``near_minutes``: how long before the
start the event counts as near. Bad input raises ``DemandError`` in one line naming the field and the fix; hand
the result to ``DemandResponse.receive``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chargewise.charging.demand import Cap, DemandError, DemandEvent, Price, Shed, Signal, Source, check_event

SIGNALS = ("cap_kw", "shed", "price_per_kwh")
KNOWN = {"id", "node", "start", "end", "near_minutes", "shed_basis", "currency", *SIGNALS}


def parse_event_request(body: Mapping[str, Any], source: Source = "rest") -> DemandEvent:
    """The event ``body`` describes (its ``id`` is also its ``origin``)."""
    if not isinstance(body, Mapping):
        raise DemandError("body: expected a JSON object with id, node, start, end and cap_kw, shed or price_per_kwh")
    if unknown := sorted(set(body) - KNOWN):
        raise DemandError(f"{unknown[0]}: not a field of a demand-response event; use {', '.join(sorted(KNOWN))}")
    event_id = _text(body, "id")
    near = body.get("near_minutes", 0)
    if not _is_number(near) or near < 0:
        raise DemandError(f"near_minutes: {near!r}; give minutes, 0 or more")
    event = DemandEvent(
        id=event_id,
        source=source,
        start=_instant(body, "start"),
        end=_instant(body, "end"),
        node=_text(body, "node"),
        signal=_signal(body),
        origin=event_id,
        near_before=timedelta(minutes=near),
    )
    return check_event(event)


def _signal(body: Mapping[str, Any]) -> Signal:
    given = [key for key in SIGNALS if key in body]
    if len(given) != 1:
        raise DemandError(f"{'/'.join(SIGNALS)}: give exactly one (got {', '.join(given) or 'none'})")
    key, value = given[0], body[given[0]]
    if not _is_number(value):
        raise DemandError(f"{key}: {value!r}; give a number")
    if key == "cap_kw":
        return Cap(kw=float(value))
    if key == "shed":
        basis = body.get("shed_basis", "limit")
        if basis not in ("limit", "baseline"):
            raise DemandError(f"shed_basis: {basis!r}; use 'limit' or 'baseline'")
        return Shed(fraction=float(value), basis=basis)
    currency = body.get("currency", "")
    if not isinstance(currency, str):
        raise DemandError(f"currency: {currency!r}; give a currency code such as 'EUR'")
    return Price(per_kwh=float(value), currency=currency)


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise DemandError(f"{key}: {value!r}; give a non-empty string")
    return value


def _instant(body: Mapping[str, Any], key: str) -> datetime:
    value = body.get(key)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise DemandError(f"{key}: {value!r} is not an ISO 8601 time; write e.g. 2026-01-05T16:00:00Z")
    if moment.tzinfo is None:
        raise DemandError(f"{key}: {value!r} has no offset; add Z or +01:00")
    return moment


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
