"""Reports that need only an empty answer: device-model reports, events, firmware/log status, security events."""

from __future__ import annotations

import logging

from chargewise.handlers.context import Context, Payload

log = logging.getLogger(__name__)


async def handle(ctx: Context, payload: Payload) -> Payload:
    log.info("%s reported %s", ctx.charger_id, payload)
    return {}
