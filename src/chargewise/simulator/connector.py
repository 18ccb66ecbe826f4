"""One connector (1.6) / EVSE with one connector (2.0.1): the EV behind it, its meter and its transaction.

Status is derived, never stored: :meth:`Connector.status` reads the state below in this order (first match
wins): Faulted, Unavailable (inoperative and idle), Preparing (no EV, a token authorized), Reserved (no EV, a
reservation holds it), Available (no EV and nothing pending), Preparing (an EV waiting for authorization,
no transaction), Finishing (transaction over, EV still plugged),
Charging (the EV draws power), SuspendedEV (the EV wants no more), SuspendedEVSE (the offer is under 6 A).
"""

from __future__ import annotations

from dataclasses import dataclass

from chargewise.domain.model import ConnectorStatus
from chargewise.simulator.composite import Limit
from chargewise.simulator.ev import EV, NO_DRAW, Draw
from chargewise.simulator.profiles import Profile


@dataclass(kw_only=True, slots=True)
class Transaction:
    """A transaction as the charger knows it. ``id`` is the 1.6 transactionId once the CSMS has assigned it
    (None until StartTransaction.conf), or the charger's own 2.0.1 transactionId (a UUID)."""

    local: int
    id: str | None
    id_tag: str | None
    started: float
    meter_start_wh: float
    seq_no: int = 0
    remote_start_id: int | None = None
    reservation_id: int | None = None  # the reservation it used (StartTransaction / TransactionEvent carry it)
    charging_state: str = "EVConnected"
    offered_a: float = 0.0

    def next_seq(self) -> int:
        seq = self.seq_no
        self.seq_no += 1
        return seq


@dataclass(kw_only=True, slots=True)
class Connector:
    id: int
    voltage_v: float
    register_wh: float = 0.0
    ev: EV | None = None
    tx: Transaction | None = None
    authorized_tag: str | None = None  # accepted before the EV plugged in
    remote_start_id: int | None = None
    fault: str | None = None  # error code while Faulted
    inoperative: bool = False
    pending_inoperative: bool | None = None  # ChangeAvailability waiting for the transaction to end
    finished: bool = False  # transaction stopped while the EV stays plugged
    limit: Limit | None = None
    draw: Draw = NO_DRAW
    reported: tuple[str, str] | None = None  # last (status, error code) sent to the CSMS
    next_meter: float = 0.0
    authorized_at: float | None = None  # when ``authorized_tag`` was accepted (ConnectionTimeOut runs from it)
    remote_profile: Profile | None = None  # TxProfile sent with a remote start, installed when it starts
    reserved: bool = False  # a reservation holds it (``local_auth.py``): Reserved while nothing else goes on

    def status(self) -> ConnectorStatus:
        """The connector's status now (rules in the module docstring)."""
        if self.fault is not None:
            return ConnectorStatus.FAULTED
        if self.inoperative and self.tx is None:
            return ConnectorStatus.UNAVAILABLE
        if self.ev is None:
            if self.authorized_tag is not None:
                return ConnectorStatus.PREPARING
            return ConnectorStatus.RESERVED if self.reserved else ConnectorStatus.AVAILABLE
        if self.tx is None:
            return ConnectorStatus.FINISHING if self.finished else ConnectorStatus.PREPARING
        if self.draw.watts > 0:
            return ConnectorStatus.CHARGING
        if self.ev.done:
            return ConnectorStatus.SUSPENDED_EV
        return ConnectorStatus.SUSPENDED_EVSE

    def charging_state(self) -> str:
        """The 2.0.1 chargingState of the transaction on this connector."""
        if self.ev is None:
            return "Idle"
        status = self.status()
        if status is ConnectorStatus.CHARGING:
            return "Charging"
        if status is ConnectorStatus.SUSPENDED_EV:
            return "SuspendedEV"
        if status in (ConnectorStatus.SUSPENDED_EVSE, ConnectorStatus.FAULTED):
            return "SuspendedEVSE"
        return "EVConnected"

    def offered(self) -> tuple[float, int]:
        """Current offered per phase and phases, after faults and the limit in force."""
        if self.fault is not None or self.tx is None or self.limit is None:
            return 0.0, 0
        return self.limit.amps, self.limit.phases

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass at the present offer: the EV charges, the meter counts."""
        if self.ev is not None and seconds > 0:
            amps, phases = self.offered()
            self.register_wh += self.ev.charge(amps, phases, self.voltage_v, seconds)

    def update_draw(self) -> None:
        """Recompute what the EV draws now (after the offer, the EV or the transaction changed)."""
        if self.ev is None:
            self.draw = NO_DRAW
            return
        amps, phases = self.offered()
        self.draw = self.ev.draw(amps, phases, self.voltage_v)
