"""The latest electrical state of every EVSE, in memory: what smart charging (and later the dashboard and
MQTT) reads each cycle, without a database query. Fed by the central system as meter values, status
notifications and connection changes arrive; listeners are told which charger changed (the reconcile loop
uses that to run at once on plug-in, unplug and new readings).

Per-phase currents are the charger's own phases (L1, L2, L3 as it reports them); mapping them onto the site's
phases is the site model's job (its wiring table). A Current.Import without a phase (and no per-phase sample
beside it) is counted on the charger's L1: a single-phase charger's only phase. Readings at the outlet count
(location absent or Outlet); SoC is read wherever it was measured (the EV).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import ConnectorStatus, MeterValue
from chargewise.services.events import EventHub, Kind

log = logging.getLogger(__name__)
PHASES = ("L1", "L2", "L3")
_PHASE_OF = {"L1": "L1", "L2": "L2", "L3": "L3", "L1-N": "L1", "L2-N": "L2", "L3-N": "L3"}


@dataclass(frozen=True, kw_only=True, slots=True)
class EvseState:
    charger_id: str
    evse_id: int
    status: ConnectorStatus | None = None
    currents_a: dict[str, float] = field(default_factory=dict)  # "L1" -> amps, as measured (Outlet)
    power_w: float | None = None
    energy_wh: float | None = None
    soc: float | None = None
    offered_a: float | None = None  # Current.Offered: what the charger says it offers the EV
    transaction_id: int | None = None
    measured_at: datetime | None = None
    status_at: datetime | None = None


Listener = Callable[[str], None]


class Telemetry:
    def __init__(self, events: EventHub | None = None) -> None:
        self.events = events  # told of every new reading (Kind.METER), as the EVSE's latest state
        self._evses: dict[tuple[str, int], EvseState] = {}
        self._online: dict[str, bool] = {}
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call ``listener(charger_id)`` after every change (it must not block; poke a loop)."""
        self._listeners.append(listener)

    def _changed(self, charger_id: str) -> None:
        for listener in self._listeners:
            try:
                listener(charger_id)
            except Exception:
                log.exception("telemetry listener failed")

    # ------------------------------------------------------------------ fed by the central system
    def meter(self, values: Iterable[MeterValue]) -> None:
        touched: set[str] = set()
        for value in values:
            key = (value.charger_id, value.evse_id)
            old = self._evses.get(key) or EvseState(charger_id=value.charger_id, evse_id=value.evse_id)
            if old.measured_at is not None and value.timestamp < old.measured_at:
                continue  # a queued, older reading replayed after a reconnect
            new = self._evses[key] = _read(old, value)
            touched.add(value.charger_id)
            if self.events is not None:
                self.events.publish(Kind.METER, value.timestamp, value.charger_id, meter_event(new))
        for charger_id in touched:
            self._changed(charger_id)

    def reported(self, charger_id: str, evse_id: int, at: datetime, data: Mapping[str, Any]) -> None:
        """A reading taken on another node of the cluster (a :data:`Kind.METER` event's data, see
        :func:`meter_event`): kept as if read here, and not published again."""
        key = (charger_id, evse_id)
        old = self._evses.get(key) or EvseState(charger_id=charger_id, evse_id=evse_id)
        if old.measured_at is not None and at < old.measured_at:
            return
        currents = {p: float(a) for p, a in zip(PHASES, data.get("current_a") or (), strict=False) if a is not None}
        self._evses[key] = replace(
            old, currents_a=currents or old.currents_a, power_w=data.get("power_w", old.power_w),
            energy_wh=data.get("energy_wh", old.energy_wh), soc=data.get("soc", old.soc),
            offered_a=data.get("offered_a", old.offered_a), measured_at=at,
            transaction_id=data.get("transaction_id", old.transaction_id),
        )  # fmt: skip
        self._changed(charger_id)

    def status(self, charger_id: str, evse_id: int, status: ConnectorStatus, at: datetime) -> None:
        key = (charger_id, evse_id)
        old = self._evses.get(key) or EvseState(charger_id=charger_id, evse_id=evse_id)
        if old.status_at is not None and at < old.status_at:
            return
        if status in (ConnectorStatus.AVAILABLE, ConnectorStatus.FINISHING):
            old = replace(old, currents_a={}, power_w=0.0, transaction_id=None)  # unplugged: nothing drawn
        self._evses[key] = replace(old, status=status, status_at=at)
        self._changed(charger_id)

    def online(self, charger_id: str, online: bool) -> None:
        self._online[charger_id] = online
        self._changed(charger_id)

    # ------------------------------------------------------------------ read
    def is_online(self, charger_id: str) -> bool:
        return self._online.get(charger_id, False)

    def evse(self, charger_id: str, evse_id: int) -> EvseState | None:
        return self._evses.get((charger_id, evse_id))

    def evses(self, charger_id: str) -> list[EvseState]:
        return sorted((s for (c, _), s in self._evses.items() if c == charger_id), key=lambda s: s.evse_id)


def _read(old: EvseState, value: MeterValue) -> EvseState:
    currents: dict[str, float] = {}
    total_current: float | None = None
    power = energy = soc = offered = None
    for v in value.sampled:
        m = v.measurand
        if m == "SoC":
            soc = v.value
            continue
        if v.location not in (None, "Outlet"):
            continue
        if m == "Current.Import":
            phase = _PHASE_OF.get(v.phase or "")
            if phase is None:
                total_current = v.value
            else:
                currents[phase] = v.value
        elif m == "Power.Active.Import" and v.phase is None:
            power = v.value
        elif m == ENERGY_REGISTER and v.phase is None:
            energy = v.value
        elif m == "Current.Offered" and v.phase is None:
            offered = v.value
    if not currents and total_current is not None:
        currents = {"L1": total_current}  # no per-phase detail: one figure, counted on the first phase
    return replace(
        old,
        currents_a=currents or old.currents_a,
        power_w=old.power_w if power is None else power,
        energy_wh=old.energy_wh if energy is None else energy,
        soc=old.soc if soc is None else soc,
        offered_a=old.offered_a if offered is None else offered,
        transaction_id=value.transaction_id if value.transaction_id is not None else old.transaction_id,
        measured_at=value.timestamp,
    )


def meter_event(state: EvseState) -> dict[str, object]:
    """The data of a :data:`Kind.METER` event: the EVSE's latest readings after this one."""
    return {"evse": state.evse_id, "transaction_id": state.transaction_id, "power_w": state.power_w,
            "energy_wh": state.energy_wh, "current_a": [state.currents_a.get(p) for p in PHASES], "soc": state.soc,
            "offered_a": state.offered_a}  # fmt: skip
