from __future__ import annotations

from typing import Any

from chargewise.domain.meter import ENERGY_REGISTER, default_unit, normalise
from chargewise.domain.model import MeterSample
from chargewise.handlers.context import Context, Payload, parse_time


async def handle(ctx: Context, payload: Payload) -> Payload:
    await ctx.central.record_samples(to_samples(ctx.charger_id, payload["evseId"], None, payload["meterValue"]))
    return {}


def to_samples(charger_id: str, evse: int, tx_id: int | None, meter_values: list[Any]) -> list[MeterSample]:
    samples = []
    for mv in meter_values:
        at = parse_time(mv["timestamp"])
        for sv in mv["sampledValue"]:
            measurand = sv.get("measurand", ENERGY_REGISTER)
            unit_of_measure = sv.get("unitOfMeasure", {})
            raw = float(sv["value"]) * 10 ** unit_of_measure.get("multiplier", 0)
            value, unit = normalise(raw, unit_of_measure.get("unit") or default_unit(measurand))
            samples.append(
                MeterSample(
                    charger_id=charger_id, evse_id=evse, transaction_id=tx_id, timestamp=at, measurand=measurand,
                    value=value, unit=unit, phase=sv.get("phase"), context=sv.get("context"),
                )
            )  # fmt: skip
    return samples


def last_register(samples: list[MeterSample]) -> float | None:
    """The latest Energy.Active.Import.Register reading among ``samples`` (Wh), if any."""
    registers = [s for s in samples if s.measurand == ENERGY_REGISTER and s.phase is None]
    return max(registers, key=lambda s: s.timestamp).value if registers else None
