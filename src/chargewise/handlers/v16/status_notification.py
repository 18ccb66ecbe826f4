from __future__ import annotations

from chargewise.domain.model import ConnectorStatus
from chargewise.handlers.context import Context, Payload, parse_time
from chargewise.handlers.radio import info_rssi


async def handle(ctx: Context, payload: Payload) -> Payload:
    connector = payload["connectorId"]
    status = ConnectorStatus(payload["status"])
    error = payload["errorCode"] if payload["errorCode"] != "NoError" else None
    at = parse_time(payload["timestamp"]) if "timestamp" in payload else ctx.now
    # 1.6 connector N is our EVSE N, connector 1; connector 0 is the charger itself
    await ctx.central.status(ctx.charger_id, connector, 1 if connector else 0, status, error, at)
    signals, info = ctx.central.link_signals, payload.get("info")
    signals.status(ctx.charger_id, ctx.now, evse_id=connector, connector_id=1 if connector else 0,
                   status=status.value, error_code=error, info=info)  # fmt: skip
    rssi = info_rssi(info) if error == "WeakSignal" else None
    if rssi is not None:
        signals.radio(ctx.charger_id, ctx.now, rssi, source="StatusNotification WeakSignal")
    if connector:
        await ctx.central.transactions.connector_status(ctx.charger_id, connector, status, at)
    return {}
