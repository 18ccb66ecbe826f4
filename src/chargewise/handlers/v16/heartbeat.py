from __future__ import annotations

from chargewise.handlers.context import Context, Payload, format_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    ctx.central.link_signals.heartbeat(ctx.charger_id, ctx.now)
    return {"currentTime": format_time(ctx.now)}
