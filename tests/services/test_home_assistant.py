"""Home Assistant discovery as data: slugs, the configs' topics and keys, and commands read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chargewise.services import home_assistant as ha

TOPICS = ha.Topics(base="cw", discovery="homeassistant")


def test_slugs_are_valid_node_ids_and_never_collide() -> None:
    assert ha.slug("CP-1_a") == "CP-1_a"
    dotted, spaced = ha.slug("CP.1"), ha.slug("CP 1")
    assert dotted.startswith("CP_1_") and spaced.startswith("CP_1_") and dotted != spaced


def test_discovery_gives_every_entity_a_retained_config_with_its_device_and_availability() -> None:
    device = ha.DeviceInfo(charger_id="W.1", vendor="ACME", model="Box", evses=(1, 2), controlled=frozenset({1}))
    messages = ha.discovery(TOPICS, device)
    configs = {m.topic: json.loads(m.payload) for m in messages}
    assert all(m.retain for m in messages) and len(configs) == len(messages)
    node = ha.slug("W.1")
    assert f"homeassistant/number/{node}/evse2_current_limit/config" in configs
    assert f"homeassistant/select/{node}/evse1_mode/config" in configs  # under smart charging
    assert f"homeassistant/select/{node}/evse2_mode/config" not in configs  # not: no mode to switch
    for topic, config in configs.items():
        assert config["unique_id"].startswith(f"chargewise_{node}_") and topic.endswith("/config")
        assert config["device"]["identifiers"] == [f"chargewise_{node}"] and config["device"]["manufacturer"] == "ACME"
        assert config["availability"][0]["topic"] == "cw/status"
    assert len({c["unique_id"] for c in configs.values()}) == len(configs)
    connected = configs[f"homeassistant/binary_sensor/{node}/connected/config"]
    assert connected["availability"] == [{"topic": "cw/status"}]  # so that it can say "off"


def test_state_messages_say_availability_and_json() -> None:
    availability, state = ha.charger_state(TOPICS, "W", connected=False, rssi_dbm=-71.0, finding="weak_signal",
                                           finding_summary="weak Wi-Fi")  # fmt: skip
    assert (availability.topic, availability.payload) == ("cw/W/availability", "offline")
    assert json.loads(state.payload) == {"connected": False, "rssi_dbm": -71.0, "finding": "weak_signal",
                                         "finding_summary": "weak Wi-Fi"}  # fmt: skip


@pytest.mark.parametrize(("topic", "payload", "expected"), [
    ("cw/W/1/current_limit/set", b"16", {"amps": 16.0}),
    ("cw/W/1/current_limit/set", b"", {"amps": None}),
    ("cw/W/2/mode/set", b"solar", {"mode": "solar", "evse": 2}),
    ("cw/W/1/departure/set", b"2027-01-01T07:30:00Z", {"departure": datetime(2027, 1, 1, 7, 30, tzinfo=UTC)}),
    ("cw/W/1/energy/set", b"12.5", {"energy_kwh": 12.5}),
    ("cw/W/1/start/set", b"PRESS", {"name": "start"}),
])  # fmt: skip
def test_commands_are_read_from_their_topics(topic: str, payload: bytes, expected: dict[str, object]) -> None:
    command = ha.parse_command(TOPICS, topic, payload, {"W": "W"})
    for key, value in expected.items():
        assert getattr(command, key) == value


@pytest.mark.parametrize(("topic", "payload", "names"), [
    ("cw/W/1/current_limit/set", b"lots", "current_limit"),
    ("cw/W/1/current_limit/set", b"500", "out of range"),
    ("cw/W/1/current_limit/set", b"nan", "out of range"),
    ("cw/W/1/mode/set", b"fast", "mode"),
    ("cw/W/1/departure/set", b"tomorrow", "departure"),
    ("cw/X/1/start/set", b"PRESS", "unknown charger"),
    ("cw/W/one/start/set", b"PRESS", "EVSE"),
    ("cw/W/1/explode/set", b"", "unknown command"),
])  # fmt: skip
def test_a_bad_command_is_one_line_naming_the_field(topic: str, payload: bytes, names: str) -> None:
    with pytest.raises(ha.CommandError, match=names):
        ha.parse_command(TOPICS, topic, payload, {"W": "W"})
