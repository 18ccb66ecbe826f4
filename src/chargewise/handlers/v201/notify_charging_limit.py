"""NotifyChargingLimit (K12): an external system (EMS, grid operator) limits an EVSE, or the whole charger when
no EVSE is given. Recorded per EVSE and source for the smart-charging engine; answered with an empty result."""

from __future__ import annotations

from chargewise.domain.reports import ChargingLimit, LimitSource
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201.charging_schedules import evse, member, schedule


async def handle(ctx: Context, payload: Payload) -> Payload:
    raw_evse = payload.get("evseId")
    limit = payload["chargingLimit"]
    schedules = tuple(schedule(s, f"chargingSchedule[{n}]") for n, s in enumerate(payload.get("chargingSchedule", ())))
    await ctx.central.reports.limit_set(ChargingLimit(
        charger_id=ctx.charger_id, evse_id=0 if raw_evse is None else evse(raw_evse),
        source=member(LimitSource, limit["chargingLimitSource"], "chargingLimit.chargingLimitSource"),
        schedules=schedules,
        grid_critical=limit.get("isGridCritical"), reported_at=ctx.now,
    ))  # fmt: skip
    return {}
