from __future__ import annotations

from chargewise.domain.model import REAPED, ConnectorStatus
from chargewise.handlers.context import Context, Payload, parse_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    evse, connector = payload["evseId"], payload["connectorId"]
    status = ConnectorStatus(payload["connectorStatus"])
    at = parse_time(payload["timestamp"])
    await ctx.central.status(ctx.charger_id, evse, connector, status, None, at)
    if status is ConnectorStatus.AVAILABLE:
        await ctx.central.reap(ctx.charger_id, reason=f"{REAPED}connector free, no stop received",
                               started_before=at, evse_id=evse)  # fmt: skip
    return {}
