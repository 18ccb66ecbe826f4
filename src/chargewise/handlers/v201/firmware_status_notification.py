"""FirmwareStatusNotification (L01): the status, with the requestId of the UpdateFirmware it is about (absent
only for Idle, or when triggered with no update running), goes to the firmware campaigns; answered with an
empty result once stored."""

from __future__ import annotations

from chargewise.handlers.context import Context, Payload


async def handle(ctx: Context, payload: Payload) -> Payload:
    await ctx.central.firmware.firmware_status(ctx.charger_id, payload["status"], payload.get("requestId"), ctx.now)
    return {}
