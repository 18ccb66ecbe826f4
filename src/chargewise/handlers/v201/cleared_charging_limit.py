"""ClearedChargingLimit (K13): the external system released its limit. The EVSE's limit of that source is
removed (no EVSE, or EVSE 0: the charger-wide one); answered with an empty result."""

from __future__ import annotations

from chargewise.domain.reports import LimitSource
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201.charging_schedules import evse, member


async def handle(ctx: Context, payload: Payload) -> Payload:
    evse_id = evse(payload.get("evseId", 0), minimum=0)
    source = member(LimitSource, payload["chargingLimitSource"], "chargingLimitSource")
    await ctx.central.reports.limit_cleared(ctx.charger_id, evse_id, source)
    return {}
