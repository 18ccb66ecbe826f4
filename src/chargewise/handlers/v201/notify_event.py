"""NotifyEvent: monitor events; those of DataLink.SignalStrength (2.0.1 part 2 appendix 3) are RSSI samples for
the connectivity doctor, the rest is logged."""

from __future__ import annotations

import logging

from chargewise.handlers.context import Context, Payload

log = logging.getLogger(__name__)


async def handle(ctx: Context, payload: Payload) -> Payload:
    others = []
    for event in payload["eventData"]:
        if event["component"]["name"] == "DataLink" and event["variable"]["name"] == "SignalStrength":
            try:
                rssi = float(event["actualValue"])
            except ValueError:
                others.append(event)
                continue
            # stamped when it arrived: a charger's clock may be wrong (the very thing a TLS finding looks for)
            source = f"NotifyEvent SignalStrength {event.get('trigger', '')}".strip()
            ctx.central.link_signals.radio(ctx.charger_id, ctx.now, rssi, source=source)
        else:
            others.append(event)
    if others:
        log.info("%s reported events %s", ctx.charger_id, others)
    return {}
