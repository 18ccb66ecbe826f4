"""LogStatusNotification (1.6 security extension, as in 2.0.1): the upload of a GetLog moves on."""

from __future__ import annotations

from chargewise.handlers.context import Context, Payload


async def handle(ctx: Context, payload: Payload) -> Payload:
    if ctx.central.log_uploads is not None:
        ctx.central.log_uploads.status(ctx.charger_id, payload["status"], payload.get("requestId"))
    return {}
