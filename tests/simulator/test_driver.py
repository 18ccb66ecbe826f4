"""Network fault scenarios over real sockets: what the server (the independent ``ocpp``-library CSMS) observes."""

from __future__ import annotations

import asyncio
import json
import time

import msgspec
import pytest
from ocpp.v16 import call as call16

from chargewise.domain.model import OcppVersion
from chargewise.simulator.faults import Step, load_scenario
from chargewise.simulator.runner import Summary

from .ocpp_csms import Csms
from .test_runner import meter_currents, simulating, spec, template

V16, V201 = OcppVersion.V16, OcppVersion.V201


def scenario(name: str, *steps: Step, **fields: object) -> object:
    base = load_scenario(name)
    if steps:
        fields["timeline"] = steps
    return msgspec.structs.replace(base, **fields) if fields else base


async def test_dns_sinkhole_charger_never_connects() -> None:
    start = time.time()
    async with (
        Csms() as csms,
        simulating(csms, spec("F1", V16, scenario="dns-sinkhole", start=start), start=start) as runner,
    ):
        await asyncio.sleep(2)  # two simulated minutes of attempts
        summary = runner.summary()
    assert csms.opens("F1") == [] and "F1" not in csms.headers  # not even an HTTP request
    assert summary.connects == 0 and summary.failures_by_stage.get("dns", 0) >= 3


async def test_half_open_link_is_marked_offline_by_the_server_within_ping_interval_plus_timeout() -> None:
    start = time.time()
    ip_change = scenario("ip-change-spi", Step(at=60, event="ip-change"))
    charger = spec("F2", V16, tpl=load_cph50(), scenario=ip_change, ev_at=5, start=start)  # meter values every minute
    async with Csms(ping_interval=0.5, ping_timeout=0.5) as csms, simulating(csms, charger, start=start) as runner:
        await csms.wait_for(lambda: csms.messages("F2", "StartTransaction"), 5)
        changed_at = _real_time(runner, start + 60)
        await csms.wait_for(lambda: any(w == "close" for _, c, w in csms.events if c == "F2"), 5)
        closed_at = next(t for t, c, w in csms.events if c == "F2" and w == "close")
        still_connected = runner.drivers[0].conn is not None
        heard_after = [r for r in csms.messages("F2") if r.at > changed_at + 0.05]
    assert closed_at - changed_at <= 0.5 + 0.5 + 0.2 + 0.3  # ping interval + timeout + close timeout + slack
    assert heard_after == [] and csms.messages("F2", "MeterValues") == []  # the first one (65 s) died at the firewall
    assert still_connected  # the charger believes it is still online (no WebSocket ping configured)


def load_cph50():  # type: ignore[no-untyped-def]
    return template("chargepoint-home-flex")


def _real_time(runner, sim_t: float) -> float:  # type: ignore[no-untyped-def]
    """Monotonic real time at which simulated time reaches ``sim_t`` (the CSMS stamps events with monotonic)."""
    loop_t = runner.clock.loop_time(sim_t)
    return loop_t - asyncio.get_running_loop().time() + time.monotonic()


@pytest.mark.parametrize("version", [V16, V201], ids=["1.6", "2.0.1"])
async def test_sticky_mesh_rssi_degrades_stays_low_and_recovers_after_reset(version: OcppVersion) -> None:
    start = time.time()
    sticky = scenario("sticky-mesh", Step(at=90, event="roam", ap=1))
    tpl = template("esp32-generic", rssi_report_interval_s=30, websocket_ping_interval_s=0)
    async with (
        Csms() as csms,
        simulating(csms, spec("F3", version, tpl=tpl, scenario=sticky, ev_at=None, start=start), start=start),
    ):
        await csms.wait_for(lambda: len(_rssi(csms, "F3")) >= 6, 10)
        if version is V16:
            reset: object = call16.Reset(type="Soft")
        else:
            from ocpp.v201 import call as call201

            reset = call201.Reset(type="Immediate")
        await _call_through_drops(csms, "F3", reset)
        seen = len(_rssi(csms, "F3"))
        await csms.wait_for(lambda: len(_rssi(csms, "F3")) >= seen + 2, 10)  # reports after the reboot
    values = _rssi(csms, "F3")
    low = next(i for i, v in enumerate(values) if v < -74)  # the roam to the far node
    back = next(i for i, v in enumerate(values) if i > low and v > -45)  # the reboot re-scans: the near node
    assert all(v > -45 for v in values[:low])
    assert back - low >= 2 and all(v < -74 for v in values[low:back])  # degraded and stays low until the reset
    assert len(values) - back >= 2 and all(v > -45 for v in values[back:])
    assert len(csms.messages("F3", "BootNotification")) >= 2


async def _call_through_drops(csms: Csms, charger_id: str, request: object) -> None:
    """At -79 dBm the link drops about every 2 s real: a CSMS retries a call whose answer was lost."""
    for _ in range(5):
        try:
            async with asyncio.timeout(1.5):
                await csms.call(charger_id, request)
            return
        except TimeoutError:
            await csms.wait_for(lambda: csms.points[charger_id]._connection.state.name == "OPEN", 5)
    raise AssertionError(f"{charger_id} never answered")


def _rssi(csms: Csms, charger_id: str) -> list[int]:
    values = []
    for r in csms.messages(charger_id):
        if r.action == "DataTransfer" and r.payload.get("message_id") == "Rssi":
            values.append(json.loads(r.payload["data"])["rssi"])
        elif r.action == "NotifyEvent":
            values += [int(e["actual_value"]) for e in r.payload["event_data"] if e["trigger"] == "Periodic"]
    return values


async def test_nat_idle_timeout_silently_drops_the_flow_unless_the_server_pings() -> None:
    start = time.time()
    nat = scenario("nat-idle-timeout", nat_idle_timeout_s=120.0, tcp_give_up_s=240.0)
    tpl = template("chargepoint-home-flex", rssi_report_interval_s=200)  # RSSI reports at ~35 s and ~235 s
    quiet_charger = spec("F4", V16, tpl=tpl, scenario=nat, ev_at=None, start=start)
    async with Csms() as quiet, simulating(quiet, quiet_charger, start=start, speed=120) as runner:
        await quiet.wait_for(lambda: len(quiet.opens("F4")) >= 2, 12)  # TCP gives up, the charger reconnects
        second = quiet.opens("F4")[1]
        on_first = [r for r in quiet.messages("F4", "DataTransfer") if r.at < second]
        half_open = any("NAT forgot the flow" in line for line in runner.drivers[0].fw.log)
    assert len(on_first) == 1 and half_open  # the report sent after 120 s of silence never arrived

    start = time.time()
    pinged_charger = spec("F5", V16, tpl=tpl, scenario=nat, ev_at=None, start=start)
    async with (
        Csms(ping_interval=0.3, ping_timeout=2) as pinging,
        simulating(pinging, pinged_charger, start=start, speed=120),
    ):
        await pinging.wait_for(lambda: len(pinging.messages("F5", "DataTransfer")) >= 2, 6)
    assert len(pinging.opens("F5")) == 1  # pings every 36 s simulated keep the mapping alive


@pytest.mark.parametrize(("name", "words"), [("tls-untrusted", "local issuer"), ("tls-expired", "has expired")])
async def test_tls_failures_produce_a_security_event_after_reconnect_with_good_tls(name: str, words: str) -> None:
    start = time.time()
    tls = scenario(name, Step(at=120, event="tls", error=None))
    async with (
        Csms() as csms,
        simulating(csms, spec("F6", V201, scenario=tls, ev_at=None, start=start), start=start) as runner,
    ):
        await csms.wait_for(
            lambda: any(
                r.payload["type"] == "InvalidCsmsCertificate" for r in csms.messages("F6", "SecurityEventNotification")
            ),
            8,
        )
        fixed_at = _real_time(runner, start + 120)
    assert csms.opens("F6")[0] >= fixed_at  # nothing reached the server before the fix at 120 s simulated
    event = next(
        r for r in csms.messages("F6", "SecurityEventNotification") if r.payload["type"] == "InvalidCsmsCertificate"
    )
    assert words in event.payload["tech_info"]


async def test_wpa3_transition_drops_the_charger_for_good() -> None:
    start = time.time()
    wpa3 = scenario("wpa3-transition", Step(at=60, event="router-change", security="wpa2-wpa3-transition"))
    async with (
        Csms() as csms,
        simulating(csms, spec("F7", V16, scenario=wpa3, ev_at=None, start=start), start=start) as runner,
    ):
        await csms.wait_for(lambda: any(w == "close" for _, c, w in csms.events if c == "F7"), 4)
        await asyncio.sleep(2)  # two more simulated minutes
        failures = runner.summary().failures_by_stage
    assert len(csms.opens("F7")) == 1 and failures.get("association", 0) >= 2


@pytest.mark.parametrize(("name", "reopens"), [("no-reconnect", False), ("healthy", True)])
async def test_firmware_that_never_reconnects_after_a_clean_close(name: str, reopens: bool) -> None:
    start = time.time()
    async with Csms() as csms, simulating(csms, spec("F8", V16, scenario=name, ev_at=None, start=start), start=start):
        await csms.wait_for(lambda: csms.messages("F8", "BootNotification"), 5)
        await csms.close_charger("F8")
        await asyncio.sleep(2)
    assert (len(csms.opens("F8")) == 2) is reopens


async def test_weak_signal_is_reported_to_the_server() -> None:
    start = time.time()
    async with (
        Csms() as csms,
        simulating(csms, spec("F9", V16, scenario="weak-rssi", ev_at=None, start=start), start=start),
    ):
        await csms.wait_for(
            lambda: [r for r in csms.messages("F9", "StatusNotification") if r.payload["error_code"] == "WeakSignal"],
            10,
        )


def test_at_speed_960_on_uvloop_every_charger_keeps_running() -> None:
    """uvloop answers a ``call_at`` less than a millisecond ahead with a plain Handle that has no ``when()``;
    at --speed 960 half a simulated second is that close, and every charger used to stop on it."""
    import uvloop

    async def run() -> tuple[list[tuple[str, BaseException]], Summary, list[int]]:
        start = time.time()
        chargers = [spec(f"U{i}", version, start=start) for i, version in enumerate([V16, V201, V16, V201])]
        async with Csms() as csms, simulating(csms, *chargers, speed=960.0, start=start) as runner:
            await asyncio.sleep(3)  # 48 simulated minutes
            errors, summary = runner.errors(), runner.summary()
            meters = [len(meter_currents(csms, c.charger_id)) for c in chargers]
        return errors, summary, meters

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as loop:
        errors, summary, meters = loop.run(run())
    assert errors == [] and summary.transactions == 4
    assert min(meters) >= 30  # a meter value every simulated minute, all along
    assert summary.disconnects == 0  # a WebSocket ping every 10 simulated seconds is 10 ms real: its pong waits longer
