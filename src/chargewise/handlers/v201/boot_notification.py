from __future__ import annotations

from chargewise.domain.model import BootInfo, Registration
from chargewise.handlers.context import Context, Payload, format_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    station = payload["chargingStation"]
    boot = BootInfo(
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
        reason=payload["reason"],
    )
    registration = await ctx.central.boot(ctx.charger_id, ctx.version, boot)
    await ctx.central.firmware.booted(ctx.charger_id, boot.firmware_version, boot.reason, ctx.now)  # OTA campaigns
    policy = ctx.central.policy
    interval = policy.heartbeat_interval if registration is Registration.ACCEPTED else policy.pending_retry_interval
    signals = ctx.central.link_signals
    signals.boot(ctx.charger_id, ctx.now, reason=payload["reason"], firmware=boot.firmware_version,
                 heartbeat_interval_s=interval)  # fmt: skip
    if registration is Registration.ACCEPTED:
        signals.boot_accepted(ctx.charger_id, ctx.version)  # reads and watches DataLink.SignalStrength
    return {"status": registration.value, "currentTime": format_time(ctx.now), "interval": interval}
