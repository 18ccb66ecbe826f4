"""Home Assistant over MQTT against the real Mosquitto broker (127.0.0.1:1883) and real simulated chargers:
discovery appears retained and valid, the state follows the charger, a current limit published to the broker
changes what the simulated EV draws within one meter interval, availability follows the link, and the last
will says "offline" when the chargewise process is killed.

Every run uses its own topic base and discovery prefix and clears its retained messages afterwards.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from chargewise.adapters.mqtt import MqttSettings
from chargewise.bootstrap import App, Settings, start
from chargewise.bootstrap_ops import OpsSettings
from chargewise.domain.model import OcppVersion
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.services.home_assistant import Topics, slug
from chargewise.services.link_signals import Retention
from chargewise.simulator.runner import Runner
from tests.e2e.server_process import ServerProcess
from tests.e2e.test_smart_charging import FollowClock
from tests.external_services import require_service
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import spec

HOST, PORT = "127.0.0.1", 1883
SPEED = 10.0  # simulated seconds per real second
METER_INTERVAL_S = 10.0  # what the profile applier asks of a charger it limits (profile_applier.METER_INTERVAL_S)
CONFIG = re.compile(r"^(?P<disc>[^/]+)/(?P<component>sensor|binary_sensor|number|button|select|text)/"
                    r"(?P<node>[A-Za-z0-9_-]+)/(?P<object>[A-Za-z0-9_-]+)/config$")  # fmt: skip
#: per component: the keys Home Assistant's MQTT discovery schema requires or that we rely on
REQUIRED = {
    "sensor": {"state_topic"}, "binary_sensor": {"state_topic"}, "number": {"command_topic", "min", "max", "step"},
    "button": {"command_topic"}, "select": {"command_topic", "options"}, "text": {"command_topic"},
}  # fmt: skip
#: HA's units for the device classes we use (a wrong unit makes HA refuse the statistics)
UNITS = {"power": {"W", "kW"}, "energy": {"Wh", "kWh"}, "current": {"A"}, "signal_strength": {"dBm", "dB"}}


class Observer:
    """A second MQTT client: every message under the test's prefixes, retained flag included."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.seen: dict[str, tuple[str, bool]] = {}  # topic -> (latest payload, retained)
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None

    async def __aenter__(self) -> Observer:
        self._client = aiomqtt.Client(HOST, PORT, identifier=f"observer-{secrets.token_hex(4)}")
        await self._client.__aenter__()
        await self._client.subscribe(f"{self.topics.base}/#")
        await self._client.subscribe(f"{self.topics.discovery}/#")
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self._client is not None
        async for m in self._client.messages:
            payload = m.payload.decode() if isinstance(m.payload, bytes) else str(m.payload or "")
            self.seen[str(m.topic)] = (payload, m.retain)

    def get(self, topic: str) -> str | None:
        return self.seen[topic][0] if topic in self.seen else None

    def json(self, topic: str) -> dict[str, Any]:
        text = self.get(topic)
        return json.loads(text) if text else {}

    async def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        assert self._client is not None
        await self._client.publish(topic, payload, qos=1, retain=retain)

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None and self._client is not None
        self._task.cancel()
        for topic, (payload, _) in list(self.seen.items()):  # clear what this run left retained on the broker
            if payload:
                await self._client.publish(topic, b"", qos=1, retain=True)
        await self._client.__aexit__(None, None, None)


def fresh_topics() -> Topics:
    tag = secrets.token_hex(4)
    return Topics(base=f"cwtest-{tag}", discovery=f"hatest-{tag}")


@pytest.fixture
def broker() -> None:
    require_service("Mosquitto", HOST, PORT, "mosquitto -d")


async def serve(data: Path, topics: Topics, clock: FollowClock) -> App:
    settings = Settings(
        data_dir=data, db_url=f"sqlite+aiosqlite:///{data / 'chargewise.db'}", host="127.0.0.1", ocpp_port=0,
        http_port=0, admin_token="t", link=LinkSettings(call_timeout=10.0), doctor=Retention(watch_radio=False),
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=True, heartbeat_interval=60),
        ops=OpsSettings(mqtt=MqttSettings(host=HOST, port=PORT, topics=topics)),
    )  # fmt: skip
    return await start(settings, clock=clock)


def check_discovery(seen: dict[str, tuple[str, bool]], topics: Topics, charger: str) -> dict[str, dict[str, Any]]:
    """Every config of the charger's device against HA's discovery schema; returns them by object id."""
    configs: dict[str, dict[str, Any]] = {}
    for topic, (payload, retained) in seen.items():
        found = CONFIG.match(topic)
        if found is None or found["disc"] != topics.discovery or found["node"] != slug(charger) or not payload:
            continue
        assert retained, f"{topic} is not retained"
        config = json.loads(payload)
        component = found["component"]
        assert REQUIRED[component] <= set(config), (topic, REQUIRED[component] - set(config))
        assert config["unique_id"] == f"chargewise_{slug(charger)}_{found['object']}"
        assert config["device"]["identifiers"] == [f"chargewise_{slug(charger)}"] and config["device"]["name"]
        assert {a["topic"] for a in config["availability"]} <= {topics.bridge, topics.availability(charger)}
        assert config.get("availability_mode", "all") == "all"
        for key in ("state_topic", "command_topic", "json_attributes_topic"):
            if key in config:
                assert config[key].startswith(topics.base + "/") and "+" not in config[key] and "#" not in config[key]
        if "device_class" in config and config["device_class"] in UNITS:
            assert config["unit_of_measurement"] in UNITS[config["device_class"]], topic
        if config.get("device_class") == "energy":
            assert config.get("state_class", "total_increasing") in ("total", "total_increasing")
        configs[found["object"]] = config
    return configs


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201], ids=["1.6", "2.0.1"])
async def test_a_charger_appears_in_home_assistant_and_obeys_a_current_limit(
    broker: None, tmp_path: Path, version: OcppVersion
) -> None:
    topics = fresh_topics()
    clock = FollowClock()
    charger = f"HA-{version.name}.garage"  # a dot: the slug must still be a valid node id
    app = await serve(tmp_path, topics, clock)
    begin = time.time()
    runner = Runner([dataclasses.replace(spec(charger, version, ev_at=5.0, start=begin))],
                    url=f"ws://127.0.0.1:{app.ocpp.port}/ocpp", speed=SPEED, start=begin)  # fmt: skip
    clock.runner = runner
    running = True
    try:
        async with Observer(topics) as seen:
            assert app.ops is not None and app.ops.mqtt is not None
            await asyncio.wait_for(app.ops.mqtt.connected.wait(), 10)
            await runner.start()
            draw = lambda: runner.drivers[0].fw.connectors[0].draw  # noqa: E731
            await until(lambda: draw().amps >= 16, 30)  # the EV charges at its full rate
            evse_state = topics.evse_state(charger, 1)
            await until(lambda: (seen.json(evse_state).get("power_w") or 0) > 10_000, 30)
            assert seen.get(topics.bridge) == "online"
            assert seen.get(topics.availability(charger)) == "online"
            assert seen.json(topics.charger_state(charger))["connected"] is True
            state = seen.json(evse_state)
            assert state["status"] in ("Charging", "Occupied") and state["energy_kwh"] is not None  # 1.6, 2.0.1

            async with Observer(topics) as late:  # a Home Assistant started now gets everything retained
                await until(lambda: len(check_discovery(late.seen, topics, charger)) >= 9, 10)
                configs = check_discovery(late.seen, topics, charger)
            assert {"connected", "rssi", "finding", "evse1_power", "evse1_energy", "evse1_status",
                    "evse1_current_limit", "evse1_start", "evse1_stop"} <= set(configs)  # fmt: skip
            assert configs["evse1_power"]["state_topic"] == evse_state

            # a current limit from Home Assistant: the EV draws at most that within one meter interval
            published = asyncio.get_running_loop().time()
            await seen.publish(configs["evse1_current_limit"]["command_topic"], "10")
            await until(lambda: draw().amps <= 10.0, 30)
            took_s = (asyncio.get_running_loop().time() - published) * SPEED
            assert took_s <= METER_INTERVAL_S, f"the limit took {took_s:.1f} simulated s"
            await until(lambda: seen.json(evse_state).get("current_limit_a") == 10.0, 10)
            await until(lambda: 0 < (seen.json(evse_state).get("power_w") or 0) <= 10 * 230 * 3 * 1.05, 10)

            await runner.stop()  # the charger goes: its availability says so, retained
            await until(lambda: seen.get(topics.availability(charger)) == "offline", 15)
            await until(lambda: seen.json(topics.charger_state(charger))["connected"] is False, 5)
            running = False
            await app.stop()  # a clean stop: the bridge says offline itself
            await until(lambda: seen.get(topics.bridge) == "offline", 10)
    finally:
        if running:
            await runner.stop()
            await app.stop()
    print(f"limit obeyed after {took_s:.1f} simulated s")


@pytest.mark.slow
async def test_the_last_will_says_offline_when_chargewise_is_killed(broker: None, tmp_path: Path) -> None:
    topics = fresh_topics()
    url = f"mqtt://{HOST}:{PORT}/{topics.base}?discovery={topics.discovery}"
    server = ServerProcess(tmp_path / "data", "--mqtt", url)
    async with Observer(topics) as seen:
        await server.start()
        try:
            await until(lambda: seen.get(topics.bridge) == "online", 15)
            server.kill()  # no clean disconnect: only the broker's last will can say it
            await until(lambda: seen.get(topics.bridge) == "offline", 15)
        finally:
            server.terminate()
        async with Observer(topics) as late:  # and it is retained
            await until(lambda: late.seen.get(topics.bridge) == ("offline", True), 10)
