"""Charger templates and settings as data."""

from __future__ import annotations

import pytest

from chargewise.simulator.settings import BY_KEY, BY_VARIABLE, Settings
from chargewise.simulator.templates import TemplateError, load_template, template_names


def test_the_seed_chargers_and_a_generic_esp32_ship() -> None:
    names = set(template_names())
    assert {"chargepoint-home-flex", "enelx-juicebox", "tesla-wall-connector", "esp32-generic"} <= names
    for name in names:
        t = load_template(name)
        assert t.name == name and t.note and 2.4 in t.radio.bands_ghz
        assert len(t.vendor) <= 20 and len(t.model) <= 20  # 1.6 BootNotification limits


def test_tesla_template_says_the_gen3_does_not_speak_ocpp_publicly() -> None:
    note = load_template("tesla-wall-connector").note
    assert "does not speak OCPP publicly" in note and "OCPP-capable variant" in note


def test_unknown_template_lists_the_valid_ones() -> None:
    with pytest.raises(TemplateError, match=r"choose one of .*esp32-generic"):
        load_template("toaster")


def test_settings_are_reachable_under_both_names_and_validated() -> None:
    settings = Settings(load_template("esp32-generic"))
    interval = BY_KEY["metervaluesampleinterval"]
    assert BY_VARIABLE[("SampledDataCtrlr", "TxUpdatedInterval", None)] is interval
    assert settings.change(interval, "15") == "Accepted" and settings.int("meter_interval") == 15
    assert settings.change(interval, "-1") == "Rejected" and settings.change(interval, "soon") == "Rejected"
    assert settings.change(BY_KEY["numberofconnectors"], "4") == "Rejected"  # read-only
    assert settings.change(BY_KEY["metervaluessampleddata"], "Energy.Active.Import.Register,Voltage") == "Accepted"
    assert settings.change(BY_KEY["metervaluessampleddata"], "Temperature") == "Rejected"
