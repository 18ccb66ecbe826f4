from __future__ import annotations

from chargewise.domain.model import REAPED, ConnectorStatus
from chargewise.handlers.context import Context, Payload, parse_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    connector = payload["connectorId"]
    status = ConnectorStatus(payload["status"])
    error = payload["errorCode"] if payload["errorCode"] != "NoError" else None
    at = parse_time(payload["timestamp"]) if "timestamp" in payload else ctx.now
    # 1.6 connector N is our EVSE N, connector 1; connector 0 is the charger itself
    await ctx.central.status(ctx.charger_id, connector, 1 if connector else 0, status, error, at)
    if connector and status is ConnectorStatus.AVAILABLE:
        await ctx.central.reap(ctx.charger_id, reason=f"{REAPED}connector free, no stop received",
                               started_before=at, evse_id=connector)  # fmt: skip
    return {}
