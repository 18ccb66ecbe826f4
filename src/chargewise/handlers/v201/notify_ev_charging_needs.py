"""NotifyEVChargingNeeds (K15): what the EV on an EVSE asked for over ISO 15118. Recorded for the
smart-charging engine; the status says whether a schedule will follow (``Reports.ev_needs``)."""

from __future__ import annotations

from chargewise.domain.reports import EnergyTransfer, EvChargingNeeds
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201.charging_schedules import (
    evse,
    member,
    optional_integer,
    optional_moment,
    optional_quantity,
    refuse,
)
from chargewise.services.reports import NeedsAnswer

NO_SCHEDULE = {"reasonCode": "NoSchedule", "additionalInfo": "no schedule is computed here; keep your own"}


async def handle(ctx: Context, payload: Payload) -> Payload:
    needs = payload["chargingNeeds"]
    ac, dc = needs.get("acChargingParameters") or {}, needs.get("dcChargingParameters") or {}
    params = ac or dc
    field = "chargingNeeds." + ("acChargingParameters" if ac else "dcChargingParameters")
    dc_field = "chargingNeeds.dcChargingParameters"
    min_current = optional_quantity(ac.get("evMinCurrent"), f"{field}.evMinCurrent")
    max_current = optional_quantity(params.get("evMaxCurrent"), f"{field}.evMaxCurrent")
    if min_current is not None and max_current is not None and min_current > max_current:
        raise refuse(f"{field}.evMinCurrent", f"{min_current:g} A exceeds evMaxCurrent {max_current:g} A")
    answer = await ctx.central.reports.ev_needs(EvChargingNeeds(
        charger_id=ctx.charger_id, evse_id=evse(payload["evseId"]),
        transfer=member(EnergyTransfer, needs["requestedEnergyTransfer"], "chargingNeeds.requestedEnergyTransfer"),
        departure_time=optional_moment(needs.get("departureTime"), "chargingNeeds.departureTime"),
        energy_wh=optional_quantity(params.get("energyAmount"), f"{field}.energyAmount"),
        min_current_a=min_current, max_current_a=max_current,
        max_voltage_v=optional_quantity(params.get("evMaxVoltage"), f"{field}.evMaxVoltage"),
        max_power_w=optional_quantity(dc.get("evMaxPower"), f"{dc_field}.evMaxPower"),
        state_of_charge=optional_integer(dc.get("stateOfCharge"), f"{dc_field}.stateOfCharge", maximum=100),
        capacity_wh=optional_quantity(dc.get("evEnergyCapacity"), f"{dc_field}.evEnergyCapacity"),
        max_schedule_tuples=optional_integer(payload.get("maxScheduleTuples"), "maxScheduleTuples", minimum=1),
        reported_at=ctx.now,
    ))  # fmt: skip
    if answer is NeedsAnswer.REJECTED:
        return {"status": answer.value, "statusInfo": NO_SCHEDULE}
    return {"status": answer.value}
