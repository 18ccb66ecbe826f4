"""Home Assistant's MQTT discovery, as data: the topics, the retained discovery configs, the state payloads
and the commands read back from command topics. Pure: no broker, no clock; ``adapters.mqtt`` publishes what
this module builds and hands it what arrives, ``services.mqtt_bridge`` decides when.

Rules (Home Assistant MQTT discovery, ``<discovery>/<component>/<node_id>/<object_id>/config``):

1. One HA device per charger (node id: the charger's :func:`slug`), its entities per EVSE (``evse1_power``);
   every config is retained, so a Home Assistant started later finds the entities.
2. Two availability topics, both retained: the bridge's (``<base>/status``, ``offline`` by the MQTT last will
   when chargewise dies, and on a clean stop) and the charger's (``<base>/<slug>/availability``, ``offline``
   while it is not connected). An entity is available when both say ``online`` (availability_mode ``all``);
   the ``connected`` sensor follows the bridge only, so that it can say "off".
3. State is JSON on ``<base>/<slug>/state`` (charger: connected, RSSI, doctor finding) and
   ``<base>/<slug>/<evse>/state`` (status, power, energy, current limit, mode), retained; entities pick their
   field with a value template.
4. Commands arrive on ``<base>/<slug>/<evse>/<command>/set``; :func:`parse_command` turns one into a
   :class:`Command` or raises :class:`CommandError` naming the field and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chargewise import __version__

ONLINE, OFFLINE = "online", "offline"
MODES = ("now", "plan", "solar", "min+solar")  # charging.site.Mode values
COMMANDS = frozenset({"start", "stop", "current_limit", "mode", "departure", "energy"})
MAX_LIMIT_A = 80.0
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def slug(charger_id: str) -> str:
    """The charger id as an MQTT topic level and HA node id (``[A-Za-z0-9_-]``); an id that needed changing
    gets a short hash of the original, so two ids never share a slug."""
    safe = _SAFE.sub("_", charger_id)
    if safe == charger_id:
        return safe
    return f"{safe}_{hashlib.sha1(charger_id.encode()).hexdigest()[:6]}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    topic: str
    payload: str
    retain: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class Topics:
    base: str = "chargewise"
    discovery: str = "homeassistant"

    @property
    def bridge(self) -> str:
        return f"{self.base}/status"

    def availability(self, charger: str) -> str:
        return f"{self.base}/{slug(charger)}/availability"

    def charger_state(self, charger: str) -> str:
        return f"{self.base}/{slug(charger)}/state"

    def evse_state(self, charger: str, evse: int) -> str:
        return f"{self.base}/{slug(charger)}/{evse}/state"

    def command(self, charger: str, evse: int, name: str) -> str:
        return f"{self.base}/{slug(charger)}/{evse}/{name}/set"

    @property
    def commands(self) -> str:
        """The filter to subscribe to for every command."""
        return f"{self.base}/+/+/+/set"

    def config(self, component: str, charger: str, object_id: str) -> str:
        return f"{self.discovery}/{component}/{slug(charger)}/{object_id}/config"


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceInfo:
    charger_id: str
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    evses: tuple[int, ...] = (1,)
    controlled: frozenset[int] = frozenset()  # EVSEs under smart charging: mode, departure and energy apply


@dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    charger_id: str
    evse: int
    name: str  # one of COMMANDS
    amps: float | None = None  # current_limit (None: lift the limit)
    mode: str | None = None
    departure: datetime | None = None
    energy_kwh: float | None = None


class CommandError(ValueError):
    """A command payload we cannot use; the message names the field and what to send."""


# ---------------------------------------------------------------------- discovery
def discovery(topics: Topics, device: DeviceInfo) -> list[Message]:
    """Every retained config for ``device``'s entities (publish on connect and when the device changes)."""
    cid = device.charger_id
    node = slug(cid)
    dev: dict[str, Any] = {"identifiers": [f"chargewise_{node}"], "name": cid}
    dev |= {k: v for k, v in (("manufacturer", device.vendor), ("model", device.model),
                              ("sw_version", device.firmware)) if v}  # fmt: skip
    both = [{"topic": topics.bridge}, {"topic": topics.availability(cid)}]
    common = {"device": dev, "origin": {"name": "chargewise", "sw_version": __version__},
              "availability": both, "availability_mode": "all"}  # fmt: skip
    out = [
        _entity(topics, "binary_sensor", cid, "connected", common | {
            "name": "Connected", "device_class": "connectivity", "state_topic": topics.charger_state(cid),
            "value_template": "{{ 'ON' if value_json.connected else 'OFF' }}", "availability": both[:1],
            "entity_category": "diagnostic"}),
        _entity(topics, "sensor", cid, "rssi", common | {
            "name": "Signal strength", "device_class": "signal_strength", "unit_of_measurement": "dBm",
            "state_class": "measurement", "state_topic": topics.charger_state(cid),
            "value_template": "{{ value_json.rssi_dbm }}", "entity_category": "diagnostic"}),
        _entity(topics, "sensor", cid, "finding", common | {
            "name": "Connectivity", "icon": "mdi:stethoscope", "state_topic": topics.charger_state(cid),
            "value_template": "{{ value_json.finding }}", "json_attributes_topic": topics.charger_state(cid),
            "json_attributes_template": "{{ {'summary': value_json.finding_summary} | tojson }}",
            "entity_category": "diagnostic", "availability": both[:1]}),
    ]  # fmt: skip
    for evse in device.evses:
        out += _evse_entities(topics, cid, evse, evse in device.controlled, common)
    return out


def _evse_entities(topics: Topics, cid: str, evse: int, controlled: bool, common: dict[str, Any]) -> list[Message]:
    state = topics.evse_state(cid, evse)
    p = f"evse{evse}_"
    label = f"EVSE {evse} "

    def field(name: str) -> str:
        return "{{ value_json.%s }}" % name  # noqa: UP031 (Jinja braces)

    out = [
        _entity(topics, "sensor", cid, p + "status", common | {
            "name": label + "status", "icon": "mdi:ev-station", "state_topic": state,
            "value_template": field("status")}),
        _entity(topics, "sensor", cid, p + "power", common | {
            "name": label + "power", "device_class": "power", "unit_of_measurement": "W", "state_class": "measurement",
            "state_topic": state, "value_template": field("power_w")}),
        _entity(topics, "sensor", cid, p + "energy", common | {
            "name": label + "energy", "device_class": "energy", "unit_of_measurement": "kWh",
            "state_class": "total_increasing", "state_topic": state, "value_template": field("energy_kwh")}),
        _entity(topics, "number", cid, p + "current_limit", common | {
            "name": label + "current limit", "device_class": "current", "unit_of_measurement": "A", "min": 0,
            "max": MAX_LIMIT_A, "step": 1, "mode": "box", "state_topic": state,
            "value_template": field("current_limit_a"), "command_topic": topics.command(cid, evse, "current_limit")}),
        _entity(topics, "button", cid, p + "start", common | {
            "name": label + "start charging", "icon": "mdi:play", "command_topic": topics.command(cid, evse, "start"),
            "payload_press": "PRESS"}),
        _entity(topics, "button", cid, p + "stop", common | {
            "name": label + "stop charging", "icon": "mdi:stop", "command_topic": topics.command(cid, evse, "stop"),
            "payload_press": "PRESS"}),
    ]  # fmt: skip
    if controlled:
        out += [
            _entity(topics, "select", cid, p + "mode", common | {
                "name": label + "mode", "icon": "mdi:solar-power", "options": list(MODES), "state_topic": state,
                "value_template": field("mode"), "command_topic": topics.command(cid, evse, "mode")}),
            _entity(topics, "text", cid, p + "departure", common | {
                "name": label + "departure", "icon": "mdi:clock-end", "state_topic": state, "max": 32,
                "value_template": "{{ value_json.departure or '' }}",
                "command_topic": topics.command(cid, evse, "departure")}),
            _entity(topics, "number", cid, p + "energy_wanted", common | {
                "name": label + "energy wanted", "device_class": "energy", "unit_of_measurement": "kWh", "min": 0,
                "max": 200, "step": 0.5, "mode": "box", "state_topic": state,
                "value_template": "{{ value_json.energy_wanted_kwh or 0 }}",
                "command_topic": topics.command(cid, evse, "energy")}),
        ]  # fmt: skip
    return out


def _entity(topics: Topics, component: str, cid: str, object_id: str, config: dict[str, Any]) -> Message:
    config = {"unique_id": f"chargewise_{slug(cid)}_{object_id}", **config}
    return Message(topic=topics.config(component, cid, object_id), payload=json.dumps(config, sort_keys=True))


def removal(topics: Topics, component: str, charger: str, object_id: str) -> Message:
    """An empty retained config: Home Assistant removes the entity."""
    return Message(topic=topics.config(component, charger, object_id), payload="")


# ---------------------------------------------------------------------- state
def charger_state(topics: Topics, charger: str, *, connected: bool, rssi_dbm: float | None,
                  finding: str | None, finding_summary: str | None) -> list[Message]:  # fmt: skip
    """The charger's availability and its state JSON."""
    state = {"connected": connected, "rssi_dbm": rssi_dbm, "finding": finding, "finding_summary": finding_summary}
    return [
        Message(topic=topics.availability(charger), payload=ONLINE if connected else OFFLINE),
        Message(topic=topics.charger_state(charger), payload=json.dumps(state, sort_keys=True)),
    ]


def evse_state(topics: Topics, charger: str, evse: int, values: Mapping[str, Any]) -> Message:
    """One EVSE's state JSON: status, power_w, energy_kwh, current_limit_a, mode, departure, energy_wanted_kwh."""
    return Message(topic=topics.evse_state(charger, evse), payload=json.dumps(dict(values), sort_keys=True))


# ---------------------------------------------------------------------- commands
def parse_command(topics: Topics, topic: str, payload: bytes, chargers: Mapping[str, str]) -> Command:
    """The command on ``topic``; ``chargers`` maps slugs to charger ids (only known chargers take commands)."""
    prefix = topics.base + "/"
    parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
    if len(parts) != 4 or parts[3] != "set":
        raise CommandError(f"topic {topic[:120]!r} is not a command topic; use {topics.base}/CHARGER/EVSE/COMMAND/set")
    node, evse_text, name, _ = parts
    charger = chargers.get(node)
    if charger is None:
        raise CommandError(f"unknown charger {node[:60]!r} in {topic[:120]!r}; use a charger the discovery names")
    if not evse_text.isdigit() or not 0 < int(evse_text) < 100:
        raise CommandError(f"EVSE {evse_text[:20]!r} is not an EVSE number; use 1, 2, ...")
    if name not in COMMANDS:
        raise CommandError(f"unknown command {name[:40]!r}; use one of {', '.join(sorted(COMMANDS))}")
    text = payload.decode("utf-8", errors="replace").strip()
    evse = int(evse_text)
    if name == "current_limit":
        return Command(charger_id=charger, evse=evse, name=name, amps=_amps(text))
    if name == "mode":
        if text not in MODES:
            raise CommandError(f"mode {text[:40]!r} is not one of {', '.join(MODES)}")
        return Command(charger_id=charger, evse=evse, name=name, mode=text)
    if name == "departure":
        return Command(charger_id=charger, evse=evse, name=name, departure=_departure(text))
    if name == "energy":
        return Command(charger_id=charger, evse=evse, name=name, energy_kwh=_number(text, "energy", 0.0, 1000.0))
    return Command(charger_id=charger, evse=evse, name=name)


def _amps(text: str) -> float | None:
    if text.lower() in ("", "none", "null", "off"):
        return None
    return _number(text, "current_limit", 0.0, MAX_LIMIT_A)


def _number(text: str, what: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"{what} {text[:40]!r} is not a number; send e.g. 16") from None
    if not low <= value <= high:  # also refuses nan
        raise CommandError(f"{what} {value:g} is out of range; send {low:g} to {high:g}")
    return value


def _departure(text: str) -> datetime | None:
    if text == "":
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"departure {text[:40]!r} is not ISO 8601; send e.g. 2027-01-01T07:30:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
