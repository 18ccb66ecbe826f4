from __future__ import annotations

from chargewise.domain.model import ConnectorStatus
from chargewise.handlers.context import Context, Payload, parse_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    evse, connector = payload["evseId"], payload["connectorId"]
    status = ConnectorStatus(payload["connectorStatus"])
    at = parse_time(payload["timestamp"])
    await ctx.central.status(ctx.charger_id, evse, connector, status, None, at)
    ctx.central.link_signals.status(ctx.charger_id, ctx.now, evse_id=evse, connector_id=connector, status=status.value)
    await ctx.central.transactions.connector_status(ctx.charger_id, evse, status, at)
    return {}
