from __future__ import annotations

import logging

from chargewise.handlers.context import Context, Payload

log = logging.getLogger(__name__)


async def handle(ctx: Context, payload: Payload) -> Payload:
    """Recorded for the connectivity doctor (InvalidCsmsCertificate, StartupOfTheDevice with the boot reason)."""
    kind, info = payload["type"], payload.get("techInfo")
    log.info("%s reported security event %s: %s", ctx.charger_id, kind, info)
    ctx.central.link_signals.security_event(ctx.charger_id, ctx.now, type=kind, tech_info=info)
    return {}
