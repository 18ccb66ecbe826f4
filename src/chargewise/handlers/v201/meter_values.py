from __future__ import annotations

from typing import Any

from chargewise.domain.meter import ENERGY_REGISTER, default_unit, normalise
from chargewise.domain.model import MeterValue, SampledValue
from chargewise.handlers.context import Context, Payload, parse_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    await ctx.central.record_meter_values(
        to_meter_values(ctx.charger_id, payload["evseId"], None, payload["meterValue"])
    )
    return {}


def to_meter_values(charger_id: str, evse: int, tx_id: int | None, meter_values: list[Any]) -> list[MeterValue]:
    return [
        MeterValue(
            charger_id=charger_id, evse_id=evse, transaction_id=tx_id, timestamp=parse_time(mv["timestamp"]),
            sampled=tuple(_sampled(sv) for sv in mv["sampledValue"]),
        )
        for mv in meter_values
    ]  # fmt: skip


def _sampled(sv: dict[str, Any]) -> SampledValue:
    measurand = sv.get("measurand", ENERGY_REGISTER)
    unit_of_measure = sv.get("unitOfMeasure", {})
    raw = float(sv["value"]) * 10 ** unit_of_measure.get("multiplier", 0)
    value, unit = normalise(raw, unit_of_measure.get("unit") or default_unit(measurand))
    return SampledValue(measurand, value, unit, sv.get("phase"), sv.get("context"), sv.get("location"))
