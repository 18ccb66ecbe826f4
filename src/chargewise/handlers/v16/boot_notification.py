from __future__ import annotations

from chargewise.domain.model import BootInfo, Registration
from chargewise.handlers.context import Context, Payload, format_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    boot = BootInfo(
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        serial_number=payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber"),
        firmware_version=payload.get("firmwareVersion"),
    )
    registration = await ctx.central.boot(ctx.charger_id, ctx.version, boot)
    await ctx.central.firmware.booted(ctx.charger_id, boot.firmware_version, None, ctx.now)  # OTA campaigns
    policy = ctx.central.policy
    interval = policy.heartbeat_interval if registration is Registration.ACCEPTED else policy.pending_retry_interval
    # 1.6 has no boot reason: the SecurityEventNotification that follows a boot tells it (``signal_batches``)
    ctx.central.link_signals.boot(ctx.charger_id, ctx.now, reason="", firmware=boot.firmware_version,
                                  heartbeat_interval_s=interval)  # fmt: skip
    return {"status": registration.value, "currentTime": format_time(ctx.now), "interval": interval}
