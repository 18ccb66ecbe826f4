"""An electric vehicle behind a connector: battery, on-board charger and a charge curve that tapers near full.

AC charging model: the EVSE offers a current per phase (the composite limit, signalled by IEC 61851 PWM);
the EV draws the least of that offer and what its on-board charger (OBC) takes at the present state of
charge, on as many phases as both sides have. Below 6 A offered the EV cannot charge (IEC 61851-1 minimum
duty cycle), so it draws nothing and the EVSE shows SuspendedEVSE. The OBC takes its full current up to
``taper_soc`` (constant current) and then linearly less, down to ``trickle`` of it at 100 % (constant
voltage). Energy is counted at the meter (AC side); the battery receives ``efficiency`` of it. The EV stops
when it has taken ``energy_wanted_wh`` or is full: the EVSE then shows SuspendedEV.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_CURRENT_A = 6.0
_STEP_S = 30.0  # integration step across the taper


@dataclass(frozen=True, kw_only=True, slots=True)
class Draw:
    """What the EV takes now: ``amps`` per phase on ``phases`` phases at ``voltage_v``."""

    amps: float
    phases: int
    voltage_v: float

    @property
    def watts(self) -> float:
        return self.amps * self.phases * self.voltage_v


NO_DRAW = Draw(amps=0.0, phases=0, voltage_v=0.0)


@dataclass(kw_only=True, slots=True)
class EV:
    """One vehicle's charging state: :meth:`draw` says what it takes, :meth:`charge` advances time."""

    capacity_wh: float
    soc: float  # 0..1; arrival value, updated while charging
    energy_wanted_wh: float
    departure: float  # POSIX seconds (simulated)
    obc_max_a: float = 32.0  # per phase
    phases: int = 1
    taper_soc: float = 0.8
    trickle: float = 0.1
    efficiency: float = 0.9
    id_tag: str | None = None  # None: the driver waits for a remote start
    delivered_wh: float = 0.0

    @property
    def done(self) -> bool:
        """The EV wants no more energy (it took what it wanted, or is full)."""
        return self.delivered_wh >= self.energy_wanted_wh - 1e-6 or self.soc >= 0.9999

    def acceptance_a(self) -> float:
        """Current per phase the OBC takes now, before any EVSE limit (the charge curve)."""
        if self.done:
            return 0.0
        if self.soc <= self.taper_soc:
            return self.obc_max_a
        fraction = (1.0 - self.soc) / (1.0 - self.taper_soc)
        return self.obc_max_a * max(self.trickle, fraction)

    def draw(self, offered_a: float, offered_phases: int, voltage_v: float) -> Draw:
        """What the EV draws when the EVSE offers ``offered_a`` per phase on ``offered_phases`` phases."""
        phases = min(self.phases, offered_phases)
        if phases <= 0 or offered_a < MIN_CURRENT_A or self.done:
            return NO_DRAW
        return Draw(amps=round(min(offered_a, self.acceptance_a()), 2), phases=phases, voltage_v=voltage_v)

    def charge(self, offered_a: float, offered_phases: int, voltage_v: float, seconds: float) -> float:
        """Advance ``seconds`` under the offer; return the energy taken at the meter (Wh)."""
        taken = 0.0
        while seconds > 1e-9:
            step = min(seconds, _STEP_S)
            watts = self.draw(offered_a, offered_phases, voltage_v).watts
            if watts <= 0:
                break
            wh = min(watts * step / 3600.0, self.energy_wanted_wh - self.delivered_wh)
            self.delivered_wh += wh
            self.soc = min(1.0, self.soc + wh * self.efficiency / self.capacity_wh)
            taken += wh
            seconds -= step
        return taken
