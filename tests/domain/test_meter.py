"""Meter units: kilo-units become base units; a sample without a unit gets the spec's default."""

from __future__ import annotations

import pytest

from chargewise.domain.meter import ENERGY_REGISTER, default_unit, normalise


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (2.5, "kWh", (2500.0, "Wh")),
        (11.0, "kW", (11000.0, "W")),
        (1.2, "kvarh", (1200.0, "varh")),
        (0.4, "kvar", (400.0, "var")),
        (1234.5, "Wh", (1234.5, "Wh")),  # base units pass through
        (7400.0, "W", (7400.0, "W")),
        (230.1, "V", (230.1, "V")),
        (21.5, "Celsius", (21.5, "Celsius")),  # units we do not scale pass through unchanged
        (42.0, None, (42.0, None)),
        (0.0, "kWh", (0.0, "Wh")),
    ],
)
def test_normalise(value: float, unit: str | None, expected: tuple[float, str | None]) -> None:
    assert normalise(value, unit) == pytest.approx(expected)


def test_normalise_is_case_sensitive_like_the_spec() -> None:
    # OCPP spells units exactly ("kWh"); a lower-case "kwh" is not ours to guess
    assert normalise(1.0, "kwh") == (1.0, "kwh")


@pytest.mark.parametrize(
    ("measurand", "unit"),
    [
        (ENERGY_REGISTER, "Wh"),
        ("Energy.Active.Export.Register", "Wh"),
        ("Energy.Active.Import.Interval", "Wh"),
        ("Power.Active.Import", "W"),
        ("Power.Active.Export", "W"),
        ("Current.Import", "A"),
        ("Current.Offered", "A"),
        ("Voltage", "V"),
        ("SoC", "Percent"),
        ("Temperature", None),
        ("Frequency", None),
    ],
)
def test_default_unit(measurand: str, unit: str | None) -> None:
    assert default_unit(measurand) == unit


def test_the_register_is_the_default_measurand_name() -> None:
    assert ENERGY_REGISTER == "Energy.Active.Import.Register"
