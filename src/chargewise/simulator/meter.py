"""What the charger's meter reports, version-neutral: each dialect formats these samples its own way.

Measurands (those configured in MeterValuesSampledData / SampledDataCtrlr.TxUpdatedMeasurands):
``Energy.Active.Import.Register`` (Wh, the register, never reset), ``Power.Active.Import`` (W),
``Current.Import`` per phase wired (A; phases the EV does not use read 0), ``Voltage`` per phase (V, phase
to neutral), ``Current.Offered`` (A, the limit offered to the EV), ``SoC`` (percent, location EV; only
when the template's ``reports_soc`` says the charger learns it, e.g. over ISO 15118).
"""

from __future__ import annotations

from dataclasses import dataclass

from chargewise.simulator.connector import Connector

PHASES = ("L1", "L2", "L3")


@dataclass(frozen=True, kw_only=True, slots=True)
class Sample:
    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str = "Outlet"


def samples(c: Connector, *, phases: int, measurands: list[str], energy_only: bool = False) -> list[Sample]:
    """The samples to report for ``c`` now; ``energy_only`` for transaction begin/end readings."""
    out = [Sample(measurand="Energy.Active.Import.Register", value=round(c.register_wh, 1), unit="Wh")]
    if energy_only:
        return out
    draw = c.draw
    if "Power.Active.Import" in measurands:
        out.append(Sample(measurand="Power.Active.Import", value=round(draw.watts, 1), unit="W"))
    if "Current.Import" in measurands:
        for i in range(phases):
            amps = draw.amps if i < draw.phases else 0.0
            out.append(Sample(measurand="Current.Import", value=round(amps, 2), unit="A", phase=PHASES[i]))
    if "Voltage" in measurands:
        for i in range(phases):
            out.append(Sample(measurand="Voltage", value=c.voltage_v, unit="V", phase=f"{PHASES[i]}-N"))
    if "Current.Offered" in measurands:
        out.append(Sample(measurand="Current.Offered", value=round(c.offered()[0], 1), unit="A"))
    if "SoC" in measurands and c.ev is not None:
        out.append(Sample(measurand="SoC", value=round(c.ev.soc * 100, 1), unit="Percent", location="EV"))
    return out
