"""TransactionEvent: Started / Updated / Ended, deduplicated by transactionId + seqNo.

Order of writes, chosen so a crash at any point loses nothing acknowledged: the transaction row, then its
meter values, then (for Ended) the stop, and the seqNo last. A retry after a crash finds the seqNo unrecorded and
replays the event; the transaction row is found by its transactionId, meter values may be stored twice (harmless:
energy comes from the register's maximum), never zero times.
"""

from __future__ import annotations

import msgspec

from chargewise.domain.model import MeterValue, TokenStatus, Transaction
from chargewise.domain.ports import NewTransaction
from chargewise.handlers.context import Context, Payload, parse_time
from chargewise.handlers.v201.id_token_info import id_token_info
from chargewise.handlers.v201.meter_values import last_register, to_meter_values
from chargewise.services.central import Authorization


async def handle(ctx: Context, payload: Payload) -> Payload:
    info = payload["transactionInfo"]
    at = parse_time(payload["timestamp"])
    evse = payload.get("evse", {})
    token = payload.get("idToken", {}).get("idToken")
    values = to_meter_values(ctx.charger_id, evse.get("id", 0), None, payload.get("meterValue", []))
    tx = await ctx.central.store.find_by_remote_id(ctx.charger_id, info["transactionId"])
    auth = Authorization(status=TokenStatus.ACCEPTED)
    if tx is None:  # Started, or the first event we hear of a transaction whose Started was lost
        new = NewTransaction(
            charger_id=ctx.charger_id, evse_id=evse.get("id", 0), connector_id=evse.get("connectorId", 1),
            id_tag=token, started_at=at, meter_start_wh=last_register(values), dedupe_key=info["transactionId"],
            remote_id=info["transactionId"],
        )  # fmt: skip
        tx, auth = await ctx.central.start_transaction(new)
    elif token:  # "" is a NoAuthorization token: nothing to authorize, as for Started
        auth = await ctx.central.authorize(token)
    if await ctx.central.store.has_event(tx.id, payload["seqNo"]):  # a retry of an event we stored: acknowledge
        return {"idTokenInfo": id_token_info(auth)} if token is not None else {}
    await _record(ctx, tx, values)
    if payload["eventType"] == "Ended":
        stop = last_register(values)
        await ctx.central.stop_transaction(
            tx, stopped_at=at, meter_stop_wh=stop, reason=info.get("stoppedReason", "Local")
        )
    await ctx.central.store.accept_event(tx.id, payload["seqNo"])
    return {"idTokenInfo": id_token_info(auth)} if token is not None else {}


async def _record(ctx: Context, tx: Transaction, values: list[MeterValue]) -> None:
    await ctx.central.record_meter_values(
        [msgspec.structs.replace(v, transaction_id=tx.id, evse_id=tx.evse_id) for v in values]
    )
