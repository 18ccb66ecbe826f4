"""FirmwareStatusNotification, and the security extension's SignedFirmwareStatusNotification (with its
requestId): the status goes to the firmware campaigns; answered with an empty result once stored."""

from __future__ import annotations

from chargewise.handlers.context import Context, Payload


async def handle(ctx: Context, payload: Payload) -> Payload:
    request_id = payload.get("requestId")  # only the signed variant has one (required there)
    await ctx.central.firmware.firmware_status(ctx.charger_id, payload["status"], request_id, ctx.now)
    return {}
