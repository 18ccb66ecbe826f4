from __future__ import annotations

from chargewise.domain.model import ConnectorStatus
from chargewise.handlers.context import Context, Payload, parse_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    connector = payload["connectorId"]
    status = ConnectorStatus(payload["status"])
    error = payload["errorCode"] if payload["errorCode"] != "NoError" else None
    at = parse_time(payload["timestamp"]) if "timestamp" in payload else ctx.now
    # 1.6 connector N is our EVSE N, connector 1; connector 0 is the charger itself
    await ctx.central.status(ctx.charger_id, connector, 1 if connector else 0, status, error, at)
    if connector:
        await ctx.central.transactions.connector_status(ctx.charger_id, connector, status, at)
    return {}
