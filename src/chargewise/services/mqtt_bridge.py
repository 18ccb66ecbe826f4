"""Home Assistant over MQTT, the use cases: what each charger's entities show (from the telemetry, the
allocation, the doctor's sweep) and what a command from Home Assistant does (start, stop, current limit,
mode, departure and energy). The broker is the adapter's (``adapters.mqtt``); the topics and payloads are
``services.home_assistant``'s. Nothing here waits on the broker: :meth:`MqttBridge.updates` yields batches
of messages, the adapter sends them.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from chargewise.charging.site import Mode
from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Store
from chargewise.services import home_assistant as ha
from chargewise.services.connections import CallTimeout, ChargerOffline, NotAccepted, Registry
from chargewise.services.doctor_sweep import DoctorSweep
from chargewise.services.events import EventHub, Kind
from chargewise.services.link_signals import LinkSignals
from chargewise.services.manual_limits import ManualLimits
from chargewise.services.smart_charging import SmartCharging
from chargewise.services.telemetry import Telemetry

log = logging.getLogger(__name__)
FLUSH_S = 1.0  # state changes within a second go out together (a meter burst is one publish per EVSE)
_KINDS = (Kind.CONNECTION, Kind.STATUS, Kind.METER, Kind.TRANSACTION, Kind.ALLOCATION, Kind.FINDING)


@dataclass(kw_only=True)
class BridgeDeps:
    store: Store
    telemetry: Telemetry
    events: EventHub
    registry: Registry
    limits: ManualLimits
    signals: LinkSignals | None = None
    charging: SmartCharging | None = None
    sweep: DoctorSweep | None = None
    id_tag: str = "HomeAssistant"  # the id token remote starts from Home Assistant use


class MqttBridge:
    def __init__(self, deps: BridgeDeps, topics: ha.Topics) -> None:
        self.deps, self.topics = deps, topics
        self._devices: dict[str, ha.DeviceInfo] = {}  # announced, by charger id
        self._slugs: dict[str, str] = {}  # slug -> charger id
        self._limit_a: dict[str, float] = {}  # "charger/evse" -> the allocation's latest limit
        self._remote_ids = itertools.count(int(time.time()) % 1_000_000)

    # ------------------------------------------------------------------ what goes out
    async def announce(self) -> list[ha.Message]:
        """On (re)connecting to the broker: every known charger's discovery and state."""
        self._devices.clear()
        out = [ha.Message(topic=self.topics.bridge, payload=ha.ONLINE)]
        for charger in await self.deps.store.list_chargers():
            out += await self._charger(charger.id)
        return out

    async def updates(self) -> AsyncIterator[list[ha.Message]]:
        """Batches of messages as the chargers change, until cancelled."""
        with self.deps.events.subscribe(kinds=_KINDS, maxsize=10_000) as sub:
            while True:
                dirty: set[str] = set()
                event = await sub.next()
                if event is None:
                    return
                deadline = time.monotonic() + FLUSH_S
                while event is not None:
                    self._take(event.kind, event.charger_id, event.data)
                    if event.charger_id is not None:
                        dirty.add(event.charger_id)
                    event = await sub.next(max(0.0, deadline - time.monotonic()))
                out: list[ha.Message] = []
                for charger in sorted(dirty):
                    out += await self._charger(charger)
                yield out

    def _take(self, kind: Kind, charger: str | None, data: Any) -> None:
        if kind is Kind.ALLOCATION:
            for evse_id, limit in data.get("limits", {}).items():
                self._limit_a[evse_id] = limit["limit_a"]

    async def _charger(self, charger_id: str) -> list[ha.Message]:
        device = await self._device(charger_id)
        out: list[ha.Message] = []
        if self._devices.get(charger_id) != device:
            out += ha.discovery(self.topics, device)
            self._devices[charger_id] = device
            self._slugs[ha.slug(charger_id)] = charger_id
        out += self.states(device)
        return out

    async def _device(self, charger_id: str) -> ha.DeviceInfo:
        charger = await self.deps.store.get_charger(charger_id)
        boot = charger.boot if charger is not None else None
        evses = {s.evse_id for s in self.deps.telemetry.evses(charger_id)}
        evses |= {c.evse_id for c in (charger.connectors if charger is not None else [])}
        evses.discard(0)
        charging = self.deps.charging
        controlled = frozenset(e for e in evses if charging is not None and charging.controls(charger_id, e))
        return ha.DeviceInfo(charger_id=charger_id, vendor=boot.vendor if boot else None,
                             model=boot.model if boot else None, firmware=boot.firmware_version if boot else None,
                             evses=tuple(sorted(evses)) or (1,), controlled=controlled)  # fmt: skip

    def states(self, device: ha.DeviceInfo) -> list[ha.Message]:
        cid = device.charger_id
        rssi = self.deps.signals.rssi.get(cid) if self.deps.signals is not None else None
        top = self.deps.sweep.top.get(cid) if self.deps.sweep is not None else None
        out = ha.charger_state(self.topics, cid, connected=cid in self.deps.registry,
                               rssi_dbm=None if rssi is None else rssi[1], finding=top.cause if top else None,
                               finding_summary=top.summary if top else None)  # fmt: skip
        for evse in device.evses:
            out.append(ha.evse_state(self.topics, cid, evse, self.evse_values(cid, evse)))
        return out

    def evse_values(self, charger_id: str, evse: int) -> dict[str, Any]:
        live = self.deps.telemetry.evse(charger_id, evse)
        key = f"{charger_id}/{evse}"
        limit = self.deps.limits.limit(charger_id, evse)
        mode = departure = wanted = None
        charging = self.deps.charging
        if charging is not None and charging.controls(charger_id, evse):
            site = charging.site_of_evse(key)
            limit = site.max_a.get(key, self._limit_a.get(key))
            mode = site.modes.get(key, site.file.site.evses[key].mode).value
            needs = site.needs.get(key)
            if needs is not None:
                departure = needs.departure.isoformat().replace("+00:00", "Z") if needs.departure else None
                wanted = needs.energy_kwh
        if limit is None and live is not None:
            limit = live.offered_a
        energy = None if live is None or live.energy_wh is None else round(live.energy_wh / 1000.0, 3)
        return {"status": live.status.value if live is not None and live.status else None,
                "power_w": None if live is None else live.power_w, "energy_kwh": energy, "current_limit_a": limit,
                "mode": mode, "departure": departure, "energy_wanted_kwh": wanted}  # fmt: skip

    # ------------------------------------------------------------------ what comes in
    async def command(self, topic: str, payload: bytes) -> tuple[str, list[ha.Message]]:
        """Carry out a command; returns one line saying what happened and the state to publish at once."""
        try:
            command = ha.parse_command(self.topics, topic, payload, self._slugs)
            said = await self._carry_out(command)
        except ha.CommandError as exc:
            return f"refused: {exc}", []
        except (ChargerOffline, NotAccepted, CallTimeout) as exc:
            return f"{command.name} on {command.charger_id}: {exc}", []
        device = self._devices.get(command.charger_id)
        return said, self.states(device) if device is not None else []

    async def _carry_out(self, c: ha.Command) -> str:
        key = f"{c.charger_id}/{c.evse}"
        charging = self.deps.charging
        controlled = charging is not None and charging.controls(c.charger_id, c.evse)
        if c.name == "start":
            return await self._start(c)
        if c.name == "stop":
            return await self._stop(c)
        if c.name == "current_limit":
            if charging is not None and controlled:
                charging.set_cap(key, c.amps)
                await charging.keep(key)
                return f"{key}: site cap {c.amps} A"
            applied = await self.deps.limits.set(c.charger_id, c.evse, c.amps)
            return f"{key}: limit {c.amps} A ({'sent' if applied is None else applied.detail or 'unchanged'})"
        if charging is None or not controlled:
            raise ha.CommandError(f"{key} is not under smart charging; {c.name} needs it in a --site file")
        if c.name == "mode":
            charging.set_mode(key, Mode(str(c.mode)))
            await charging.keep(key)
            return f"{key}: mode {c.mode}"
        site = charging.site_of_evse(key)
        old = site.needs.get(key)
        energy = old.energy_kwh if old is not None else None
        departure = old.departure if old is not None else None
        if c.name == "energy":
            energy = c.energy_kwh
        else:
            departure = c.departure
        charging.set_needs(key, energy, departure, "mqtt")
        await charging.keep(key)
        return f"{key}: needs {energy} kWh by {departure}"

    async def _start(self, c: ha.Command) -> str:
        link = self.deps.registry.get(c.charger_id)
        if link is None:
            raise ChargerOffline(f"charger {c.charger_id!r} is not connected")
        if link.version is OcppVersion.V16:
            action, payload = "RemoteStartTransaction", {"connectorId": c.evse, "idTag": self.deps.id_tag}
        else:
            action = "RequestStartTransaction"
            payload = {"evseId": c.evse, "remoteStartId": next(self._remote_ids),
                       "idToken": {"idToken": self.deps.id_tag, "type": "Central"}}  # fmt: skip
        outcome = await self.deps.registry.call(c.charger_id, action, payload)
        return f"{c.charger_id}/{c.evse}: {action} {_answer(outcome.payload, outcome.error_code)}"

    async def _stop(self, c: ha.Command) -> str:
        link = self.deps.registry.get(c.charger_id)
        if link is None:
            raise ChargerOffline(f"charger {c.charger_id!r} is not connected")
        running = [t for t in await self.deps.store.active_transactions(c.charger_id) if t.evse_id == c.evse]
        if not running:
            raise ha.CommandError(f"{c.charger_id}/{c.evse} has no transaction to stop")
        tx = running[0]
        payload: dict[str, Any]
        if link.version is OcppVersion.V16:
            action, payload = "RemoteStopTransaction", {"transactionId": tx.id}
        else:
            action, payload = "RequestStopTransaction", {"transactionId": tx.remote_id or str(tx.id)}
        outcome = await self.deps.registry.call(c.charger_id, action, payload)
        return f"{c.charger_id}/{c.evse}: {action} {_answer(outcome.payload, outcome.error_code)}"


def _answer(payload: dict[str, Any] | None, error: str | None) -> str:
    return f"CallError {error}" if error is not None else str((payload or {}).get("status"))
