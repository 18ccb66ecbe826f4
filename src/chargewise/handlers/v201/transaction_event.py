"""TransactionEvent: Started / Updated / Ended, translated for ``Transactions.event`` (which deduplicates by
transactionId + seqNo and owns the order of writes)."""

from __future__ import annotations

from chargewise.handlers.context import Context, Payload, parse_time
from chargewise.handlers.v201.id_token_info import id_token_info
from chargewise.handlers.v201.meter_values import to_meter_values
from chargewise.services.transactions import EventType, TransactionEvent


async def handle(ctx: Context, payload: Payload) -> Payload:
    info, evse = payload["transactionInfo"], payload.get("evse", {})
    event = TransactionEvent(
        charger_id=ctx.charger_id, remote_id=info["transactionId"], event_type=EventType(payload["eventType"]),
        at=parse_time(payload["timestamp"]), seq_no=payload["seqNo"], evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"), id_tag=payload.get("idToken", {}).get("idToken"),
        trigger_reason=payload["triggerReason"], charging_state=info.get("chargingState"),
        remote_start_id=info.get("remoteStartId"), stopped_reason=info.get("stoppedReason"),
        meter_values=tuple(to_meter_values(ctx.charger_id, 0, None, payload.get("meterValue", []))),
        reservation_id=payload.get("reservationId"),
    )  # fmt: skip
    _, auth = await ctx.central.transactions.event(event)
    return {"idTokenInfo": id_token_info(auth)} if auth is not None else {}
