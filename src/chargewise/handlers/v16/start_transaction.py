from __future__ import annotations

from chargewise.domain.ports import NewTransaction
from chargewise.handlers.context import Context, Payload, parse_time
from chargewise.handlers.v16.id_tag_info import id_tag_info


async def handle(ctx: Context, payload: Payload) -> Payload:
    connector, id_tag, meter_start, timestamp = (
        payload["connectorId"], payload["idTag"], payload["meterStart"], payload["timestamp"],
    )  # fmt: skip
    new = NewTransaction(
        charger_id=ctx.charger_id, evse_id=connector, connector_id=1, id_tag=id_tag,
        started_at=parse_time(timestamp), meter_start_wh=float(meter_start),
        # a retried StartTransaction carries the same four fields: it gets the same transactionId
        dedupe_key=f"{connector}|{id_tag}|{meter_start}|{timestamp}", reservation_id=payload.get("reservationId"),
    )  # fmt: skip
    tx, auth = await ctx.central.start_transaction(new)
    return {"transactionId": tx.id, "idTagInfo": id_tag_info(auth)}
