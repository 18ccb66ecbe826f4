"""TransactionEvent: Started / Updated / Ended, deduplicated by transactionId + seqNo.

Order of writes, chosen so that a crash at any point loses nothing acknowledged and stores nothing twice: the
transaction row (found again by its transactionId on a retry), then the event's seqNo together with its meter
values in one database transaction. For Ended, the stop and the meter values come first, in one database
transaction that only the stop which closes the transaction makes (a retry stores them no second time), then
the seqNo. A retry after a crash between two of these writes finds the seqNo unrecorded and replays the event:
each write it repeats is one that finds its work done.
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
    values = _bound(tx, values)
    if payload["eventType"] == "Ended":
        await ctx.central.stop_transaction(
            tx, stopped_at=at, meter_stop_wh=last_register(values), reason=info.get("stoppedReason", "Local"),
            meter_values=values,
        )  # fmt: skip
        await ctx.central.store.accept_event(tx.id, payload["seqNo"])
    else:
        await ctx.central.store.accept_event(tx.id, payload["seqNo"], meter_values=values)
    return {"idTokenInfo": id_token_info(auth)} if token is not None else {}


def _bound(tx: Transaction, values: list[MeterValue]) -> list[MeterValue]:
    """The event's meter values, linked to its transaction and that transaction's EVSE."""
    return [msgspec.structs.replace(v, transaction_id=tx.id, evse_id=tx.evse_id) for v in values]
