from __future__ import annotations

import logging

from chargewise.handlers.context import Context, Payload

log = logging.getLogger(__name__)


async def handle(ctx: Context, payload: Payload) -> Payload:
    """Vendor extensions: recorded in the log; no vendor is known yet, which the spec answers UnknownVendorId."""
    log.info(
        "DataTransfer from %s: vendor=%s message=%s", ctx.charger_id, payload["vendorId"], payload.get("messageId")
    )
    return {"status": "UnknownVendorId"}
