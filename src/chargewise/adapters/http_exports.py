"""REST for CSV files (``services.exports``): id tokens out and in (``/api/v1/tokens.csv``), transactions for
billing (``/api/v1/transactions.csv``, with the listing's filters); and those filters, shared with
``GET /api/v1/transactions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from chargewise.adapters import api_charger_models as m
from chargewise.adapters.http_common import BODY_READ, InvalidBody, flag, ok, query
from chargewise.adapters.http_sites import SITES
from chargewise.services import exports
from chargewise.services.admin_errors import InvalidRequest
from chargewise.services.records import Ledger, Records

FILTERS = frozenset({"charger_id", "active", "id_tag", "site", "since", "until"})


@dataclass(frozen=True, kw_only=True)
class ExportDeps:
    records: Records
    ledger: Ledger


EXPORTS: web.AppKey[ExportDeps] = web.AppKey("chargewise-exports")


def _time(params: dict[str, str], name: str) -> datetime | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            f"{name} {text[:40]!r} is not an ISO 8601 time", fix="write e.g. 2027-01-01T00:00:00Z"
        ) from None


def transaction_filters(request: web.Request, params: dict[str, str]) -> dict[str, Any]:
    """The ``Ledger.transactions`` keywords the query's filters ask for (``site``: its chargers)."""
    chargers = None
    if (site := params.get("site")) is not None:
        charging = request.app[SITES].charging
        if charging is None or site not in charging.sites:
            known = ", ".join(sorted(charging.sites)) if charging is not None else "none (no --site)"
            raise InvalidRequest(f"no site {site[:40]!r}", fix=f"use one of: {known}")
        chargers = {evse.charger for evse in charging.sites[site].file.site.evses.values()}
    return {"charger_id": params.get("charger_id") or None, "active": flag(params, "active"),
            "id_tag": params.get("id_tag"), "chargers": chargers, "since": _time(params, "since"),
            "until": _time(params, "until")}  # fmt: skip


async def _csv(request: web.Request, name: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
    await response.prepare(request)
    return response


async def export_tokens(request: web.Request) -> web.StreamResponse:
    query(request, ())
    records = request.app[EXPORTS].records
    await records.tokens(limit=1)  # a failing store is a Problem before the first byte, not a cut file
    response = await _csv(request, "tokens.csv")
    await response.write(exports.token_header().encode())
    async for token in exports.all_tokens(records):
        await response.write(exports.token_row(token).encode())
    await response.write_eof()
    return response


async def import_tokens(request: web.Request) -> web.Response:
    """Up to the API's body limit (1 MiB: about 20,000 tokens); split a larger file."""
    query(request, ())
    request[BODY_READ] = True
    try:
        text = (await request.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidBody("the token file is not UTF-8 text", fix="save it as UTF-8 CSV") from None
    imported = await exports.import_tokens(request.app[EXPORTS].records, text)
    return ok(m.ImportView(imported=imported))


async def export_transactions(request: web.Request) -> web.StreamResponse:
    params = query(request, FILTERS)
    filters = transaction_filters(request, params)
    ledger = request.app[EXPORTS].ledger
    page = await ledger.transactions(limit=1000, **filters)  # checked before the first byte is sent
    response = await _csv(request, "transactions.csv")
    await response.write(exports.billing_header().encode())
    while True:
        for tx in page.items:
            await response.write(exports.billing_row(tx).encode())
        if page.next_cursor is None:
            break
        page = await ledger.transactions(limit=1000, cursor=page.next_cursor, **filters)
    await response.write_eof()
    return response


def add_routes(app: web.Application, deps: ExportDeps) -> None:
    app[EXPORTS] = deps
    r = app.router
    r.add_get("/api/v1/tokens.csv", export_tokens)
    r.add_post("/api/v1/tokens.csv", import_tokens)
    r.add_get("/api/v1/transactions.csv", export_transactions)
