from __future__ import annotations

import logging

from chargewise.handlers.context import Context, Payload
from chargewise.handlers.radio import vendor_radio

log = logging.getLogger(__name__)


async def handle(ctx: Context, payload: Payload) -> Payload:
    """Vendor extensions: radio reports we know (``handlers.radio.VENDOR_RADIO``) are recorded and Accepted;
    anything else is logged and answered UnknownVendorId (or UnknownMessageId for a vendor we know)."""
    vendor, message = payload["vendorId"], payload.get("messageId")
    status, reading = vendor_radio(vendor, message, payload.get("data"))
    if reading is not None:
        ctx.central.link_signals.radio(ctx.charger_id, ctx.now, reading.rssi_dbm, bssid=reading.bssid,
                                       source=f"DataTransfer {vendor}/{message}")  # fmt: skip
    else:
        log.info("DataTransfer from %s: vendor=%s message=%s: %s", ctx.charger_id, vendor, message, status)
    return {"status": status}
