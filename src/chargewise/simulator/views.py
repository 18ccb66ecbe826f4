"""Read-only snapshots of a charger for live views (the demo's table, ``simulate --live``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectorView:
    id: int
    status: str
    power_w: float
    current_a: float
    offered_a: float
    energy_wh: float  # the meter register
    soc: float | None  # percent, while an EV is plugged in
    transaction_id: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerView:
    """What a person watching the charger would see."""

    charger_id: str
    template: str
    version: str
    phase: str  # off, offline, booting, accepted, rebooting
    firmware_version: str
    rssi_dbm: int | None
    queued: int  # transaction messages waiting in the outbox
    connectors: tuple[ConnectorView, ...]

    @property
    def power_w(self) -> float:
        return sum(c.power_w for c in self.connectors)
