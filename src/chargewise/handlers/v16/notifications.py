"""Status notifications that need only an empty answer: firmware, diagnostics, logs and security events."""

from __future__ import annotations

import logging

from chargewise.handlers.context import Context, Payload

log = logging.getLogger(__name__)


async def handle(ctx: Context, payload: Payload) -> Payload:
    log.info("%s reported %s", ctx.charger_id, payload)
    return {}
