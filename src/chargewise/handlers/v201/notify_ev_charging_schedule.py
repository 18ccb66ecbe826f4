"""NotifyEVChargingSchedule (K17): the schedule the EV computed for itself. Recorded; answered Accepted, which
says the message was processed and approves nothing (the smart-charging engine will judge it)."""

from __future__ import annotations

from chargewise.domain.reports import EvChargingSchedule
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201.charging_schedules import evse, moment, schedule


async def handle(ctx: Context, payload: Payload) -> Payload:
    await ctx.central.reports.ev_schedule(EvChargingSchedule(
        charger_id=ctx.charger_id, evse_id=evse(payload["evseId"]),
        time_base=moment(payload["timeBase"], "timeBase"), schedule=schedule(payload["chargingSchedule"]),
        reported_at=ctx.now,
    ))  # fmt: skip
    return {"status": "Accepted"}
