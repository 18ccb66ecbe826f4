from __future__ import annotations

from chargewise.handlers.context import Context, Payload, parse_time
from chargewise.handlers.v16.id_tag_info import id_tag_info
from chargewise.handlers.v16.meter_values import to_meter_values


async def handle(ctx: Context, payload: Payload) -> Payload:
    # the transactionData goes in with the stop, in one write: a charger that missed our answer sends the same
    # stop again, and finds its samples stored once; an unknown transactionId is acknowledged all the same:
    # refusing it would block the charger's queue forever
    await ctx.central.transactions.stop(
        ctx.charger_id, payload["transactionId"], stopped_at=parse_time(payload["timestamp"]),
        meter_stop_wh=float(payload["meterStop"]), reason=payload.get("reason", "Local"),
        meter_values=to_meter_values(ctx.charger_id, 0, None, payload.get("transactionData", [])),
    )  # fmt: skip
    if "idTag" in payload:
        return {"idTagInfo": id_tag_info(await ctx.central.authorize(payload["idTag"]))}
    return {}
