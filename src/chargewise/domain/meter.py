"""Meter readings: normalising units so that energy is always Wh and power always W."""

from __future__ import annotations

ENERGY_REGISTER = "Energy.Active.Import.Register"

_SCALE = {"kWh": ("Wh", 1000.0), "kW": ("W", 1000.0), "kvarh": ("varh", 1000.0), "kvar": ("var", 1000.0)}


def normalise(value: float, unit: str | None) -> tuple[float, str | None]:
    """Convert kilo-units to base units (``2.5 kWh`` -> ``2500 Wh``); other units pass through unchanged."""
    if unit in _SCALE:
        base, factor = _SCALE[unit]
        return value * factor, base
    return value, unit


def default_unit(measurand: str) -> str | None:
    """The spec's default unit when a sample names none."""
    if measurand.startswith("Energy.Active"):
        return "Wh"
    if measurand.startswith("Power.Active"):
        return "W"
    if measurand.startswith("Current"):
        return "A"
    if measurand == "Voltage":
        return "V"
    if measurand == "SoC":
        return "Percent"
    return None
