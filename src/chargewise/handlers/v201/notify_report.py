"""NotifyReport: the charger's device-model report, answered empty; the EV-connection timeout is learned from it
(``Transactions.note_report``)."""

from __future__ import annotations

import logging

from chargewise.handlers.context import Context, Payload

log = logging.getLogger(__name__)


async def handle(ctx: Context, payload: Payload) -> Payload:
    ctx.central.transactions.note_report(ctx.charger_id, payload.get("reportData", []))
    log.info("%s reported %s", ctx.charger_id, payload)
    return {}
