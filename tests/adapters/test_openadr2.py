"""The OpenADR 2.0b VEN against a real openleadr VTN on loopback: events arrive, opt is answered, caps are held.

The VTN is openleadr's own ``OpenADRServer`` on 127.0.0.1 and a free port; it asks for a poll every half second,
so each event reaches us within about a second.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openleadr import OpenADRServer

from chargewise.adapters.memory_demand import MemoryDemandEvents
from chargewise.adapters.openadr2 import OpenAdr2Error, OpenAdr2Ven, Ven2Settings, map_event
from chargewise.charging.demand import SIMPLE_SHED, Cap, DemandError, Price, Shed
from chargewise.services.demand_response import DemandResponse

# openleadr 0.5 stores its server in the aiohttp app under a string key.
pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web.NotAppKeyWarning")
VEN_ID = "ven-depot"
SITES = {"main": "depot", "feeder-1": "depot"}
START = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 8.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.05)


class Vtn:
    """An openleadr VTN and the opt answers its event callbacks heard."""

    def __init__(self) -> None:
        self.port = free_port()
        self.answers: dict[str, list[str]] = {}
        self.server = OpenADRServer(
            vtn_id="TESTVTN",
            http_host="127.0.0.1",
            http_port=self.port,
            requested_poll_freq=timedelta(seconds=0.5),
            show_fingerprint=False,
        )
        self.server.add_handler("on_create_party_registration", self._register)

    async def _register(self, registration_info: dict[str, Any]) -> tuple[str, str]:
        return VEN_ID, "reg-depot"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/OpenADR2/Simple/2.0b"

    def heard(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self.answers.setdefault(event_id, []).append(opt_type)

    def cap(self, kw: float, resource: str, minutes: int = 120) -> str:
        interval = {"dtstart": START, "duration": timedelta(minutes=minutes), "signal_payload": kw}
        return str(
            self.server.add_event(
                ven_id=VEN_ID,
                signal_name="LOAD_DISPATCH",
                signal_type="setpoint",
                intervals=[interval],
                targets=[{"resource_id": resource}],
                callback=self.heard,
            )
        )


@pytest.fixture
async def vtn() -> AsyncIterator[Vtn]:
    one = Vtn()
    await one.server.run()
    yield one
    await one.server.stop()


@pytest.fixture
async def ven(vtn: Vtn) -> AsyncIterator[tuple[OpenAdr2Ven, DemandResponse]]:
    service = DemandResponse(MemoryDemandEvents(), SITES)
    one = OpenAdr2Ven(service, Ven2Settings(vtn_url=vtn.url, ven_name="chargewise-depot"))
    await one.start()
    assert one.ven_id == VEN_ID
    yield one, service
    await one.stop()


async def test_a_cap_event_arrives_and_is_opted_in(vtn: Vtn, ven: tuple[OpenAdr2Ven, DemandResponse]) -> None:
    _, service = ven
    event_id = vtn.cap(11.0, "main")

    async def answered() -> bool:
        return vtn.answers.get(event_id) == ["optIn"]

    await eventually(answered)
    held = await service.events("main")
    assert [(one.origin, one.signal, one.start, one.end, one.opt and one.opt.kind) for one in held] == [
        (event_id, Cap(kw=11.0), START, START + timedelta(minutes=120), "optIn")
    ]
    assert await service.cap_at("main", START + timedelta(minutes=5), limit_kw=43.0) == 11.0
    assert await service.cap_at("main", START + timedelta(minutes=120), limit_kw=43.0) is None


async def test_an_event_for_an_unknown_node_is_opted_out(vtn: Vtn, ven: tuple[OpenAdr2Ven, DemandResponse]) -> None:
    one, service = ven
    event_id = vtn.cap(5.0, "no-such-node")

    async def answered() -> bool:
        return vtn.answers.get(event_id) == ["optOut"]

    await eventually(answered)
    assert one.refused[event_id] == "node 'no-such-node' is not in any site"
    assert await service.cap_at("no-such-node", START + timedelta(minutes=5), limit_kw=None) is None


async def test_a_cancelled_event_lifts_the_cap(vtn: Vtn, ven: tuple[OpenAdr2Ven, DemandResponse]) -> None:
    _, service = ven
    event_id = vtn.cap(11.0, "main")

    async def answered() -> bool:
        return bool(vtn.answers.get(event_id))

    await eventually(answered)
    vtn.server.cancel_event(VEN_ID, event_id)
    assert [one.event_descriptor.event_status for one in vtn.server.events[VEN_ID]] == ["cancelled"]

    async def cancelled() -> bool:
        return [one.status for one in await service.events("main")] == ["cancelled"]

    await eventually(cancelled)
    assert await service.cap_at("main", START + timedelta(minutes=5), limit_kw=43.0) is None

    async def acknowledged() -> bool:  # the VTN drops a cancelled event once the VEN answered the cancellation
        return all(one.event_descriptor.event_id != event_id for one in vtn.server.events[VEN_ID])

    await eventually(acknowledged)


async def test_an_operator_opt_out_reaches_the_vtn(vtn: Vtn, ven: tuple[OpenAdr2Ven, DemandResponse]) -> None:
    _, service = ven
    event_id = vtn.cap(11.0, "main")

    async def answered() -> bool:
        return vtn.answers.get(event_id) == ["optIn"]

    await eventually(answered)
    vtn.server.event_callbacks[event_id] = (
        vtn.server.events[VEN_ID][0],
        vtn.heard,
    )  # the VTN listens again for a changed answer
    [held] = await service.events("main")
    await service.set_opt(held.id, "optOut", by="operator:ana", reason="site visit")

    async def changed() -> bool:
        return vtn.answers.get(event_id) == ["optIn", "optOut"]

    await eventually(changed)


async def test_a_vtn_that_refuses_or_is_absent_fails_start_in_one_line(vtn: Vtn) -> None:
    async def refuse(registration_info: dict[str, Any]) -> bool:
        return False

    vtn.server.add_handler("on_create_party_registration", refuse)
    absent = f"http://127.0.0.1:{free_port()}/OpenADR2/Simple/2.0b"
    for url in (vtn.url, absent):
        one = OpenAdr2Ven(DemandResponse(MemoryDemandEvents(), SITES), Ven2Settings(vtn_url=url, ven_name="depot"))
        with pytest.raises(OpenAdr2Error, match=f"VTN {url} did not register VEN 'depot'"):
            await one.start()
        await one.stop()


def raw(signal_name: str, signal_type: str, payload: float, **extra: Any) -> dict[str, Any]:
    interval = {"dtstart": START, "duration": timedelta(hours=1), "uid": 0, "signal_payload": payload}
    return {
        "event_descriptor": {"event_id": "e1", "modification_number": 2, "event_status": "near"},
        "active_period": {"dtstart": START, "duration": timedelta(hours=1), "ramp_up_period": timedelta(minutes=5)},
        "event_signals": [{"signal_name": signal_name, "signal_type": signal_type, "intervals": [interval], **extra}],
        "targets_by_type": {"resource_id": ["main"]},
    }


@pytest.mark.parametrize(
    ("event", "signal"),
    [
        (raw("LOAD_DISPATCH", "setpoint", 20.0), Cap(kw=20.0)),
        (raw("LOAD_DISPATCH", "setpoint", 20000.0, measurement={"unit": "W", "scale": "none"}), Cap(kw=20.0)),
        (raw("LOAD_DISPATCH", "setpoint", 0.5, measurement={"unit": "W", "scale": "M"}), Cap(kw=500.0)),
        (raw("LOAD_CONTROL", "x-loadControlSetpoint", 7.5), Cap(kw=7.5)),
        (raw("LOAD_CONTROL", "x-loadControlCapacity", 0.25), Shed(fraction=0.75)),
        (raw("SIMPLE", "level", 2), Shed(fraction=SIMPLE_SHED[2])),
        (raw("ELECTRICITY_PRICE", "price", 0.31), Price(per_kwh=0.31)),
    ],
)
def test_signals_map_onto_the_internal_model(event: dict[str, Any], signal: object) -> None:
    [one] = map_event(event, None, SIMPLE_SHED)
    assert (one.signal, one.node, one.origin, one.modification, one.status) == (signal, "main", "e1", 2, "near")
    assert (one.start, one.end, one.near_before) == (START, START + timedelta(hours=1), timedelta(minutes=5))


def test_simple_level_zero_caps_nothing() -> None:
    assert map_event(raw("SIMPLE", "level", 0), None, SIMPLE_SHED) == []


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (raw("BID_LOAD", "setpoint", 1.0), "signal BID_LOAD/setpoint is not supported"),
        (raw("LOAD_DISPATCH", "setpoint", 1.0, measurement={"unit": "A", "scale": "none"}), "item base A"),
        (raw("SIMPLE", "level", 7), "SIMPLE level 7"),
        ({**raw("SIMPLE", "level", 1), "targets_by_type": {"ven_id": [VEN_ID]}}, "no resource_id and no default node"),
    ],
)
def test_unusable_events_say_why(event: dict[str, Any], message: str) -> None:
    with pytest.raises(DemandError, match=message):
        map_event(event, None, SIMPLE_SHED)


def test_an_event_for_the_whole_ven_goes_to_the_default_node() -> None:
    event = {**raw("LOAD_DISPATCH", "setpoint", 9.0), "targets_by_type": {"ven_id": [VEN_ID]}}
    assert [one.node for one in map_event(event, "main", SIMPLE_SHED)] == ["main"]
