from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargewise.domain.model import ConnectorStatus, MeterValue, SampledValue
from chargewise.services.telemetry import Telemetry

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def mv(at: datetime, *sampled: SampledValue, evse: int = 1, tx: int | None = 5) -> MeterValue:
    return MeterValue(charger_id="CP1", evse_id=evse, transaction_id=tx, timestamp=at, sampled=sampled)


def amps(phase: str, value: float) -> SampledValue:
    return SampledValue(measurand="Current.Import", value=value, unit="A", phase=phase)


def test_latest_reading_per_phase_power_energy_soc_and_listeners() -> None:
    t = Telemetry()
    heard: list[str] = []
    t.listen(heard.append)
    t.meter([mv(T0, amps("L1", 15.9), amps("L2", 0.0), amps("L3", 0.0),
                SampledValue(measurand="Voltage", value=230, unit="V", phase="L1-N"),
                SampledValue(measurand="Power.Active.Import", value=3657.0, unit="W"),
                SampledValue(measurand="Energy.Active.Import.Register", value=1200.0, unit="Wh"),
                SampledValue(measurand="SoC", value=41.0, unit="Percent", location="EV"))])  # fmt: skip
    s = t.evse("CP1", 1)
    assert s is not None
    assert s.currents_a == {"L1": 15.9, "L2": 0.0, "L3": 0.0}
    assert (s.power_w, s.energy_wh, s.soc, s.transaction_id) == (3657.0, 1200.0, 41.0, 5)
    assert heard == ["CP1"]
    # an older reading replayed after a reconnect does not overwrite the newer one
    t.meter([mv(T0 - timedelta(minutes=5), amps("L1", 30.0))])
    assert t.evse("CP1", 1).currents_a["L1"] == 15.9  # type: ignore[union-attr]


def test_a_reading_without_phase_counts_on_l1_and_inlet_readings_are_ignored() -> None:
    t = Telemetry()
    t.meter([mv(T0, SampledValue(measurand="Current.Import", value=12.0, unit="A"),
                SampledValue(measurand="Current.Import", value=99.0, unit="A", phase="L1", location="Inlet"))])  # fmt: skip
    assert t.evse("CP1", 1).currents_a == {"L1": 12.0}  # type: ignore[union-attr]


def test_unplugging_clears_what_is_drawn_and_old_statuses_are_ignored() -> None:
    t = Telemetry()
    t.meter([mv(T0, amps("L1", 16.0))])
    t.status("CP1", 1, ConnectorStatus.AVAILABLE, T0 + timedelta(seconds=10))
    s = t.evse("CP1", 1)
    assert s is not None and s.currents_a == {} and s.power_w == 0.0 and s.transaction_id is None
    t.status("CP1", 1, ConnectorStatus.CHARGING, T0 + timedelta(seconds=5))  # older: ignored
    assert t.evse("CP1", 1).status is ConnectorStatus.AVAILABLE  # type: ignore[union-attr]
    t.online("CP1", True)
    assert t.is_online("CP1") and not t.is_online("CP2")
    assert [e.evse_id for e in t.evses("CP1")] == [1]
