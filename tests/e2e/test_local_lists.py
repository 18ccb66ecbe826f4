"""A simulated charger gets the local list from the token store (``tokens push``); with its link down (the
router switches to WPA2/WPA3 transition mode, which its radio cannot join) it authorizes a listed token and
refuses an unknown one, and the transaction reaches the server after the reconnect. A token change reaches a
connected charger by itself, as a Differential update, and blocking a token clears its cache; a charger nobody
pushed a list to is sent none unasked."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path

import aiohttp
import msgspec
import pytest
import websockets

from chargewise.domain.model import IdToken, OcppVersion, TokenStatus
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.simulator.faults import Step, load_scenario
from chargewise.simulator.templates import load_template
from chargewise.simulator.workload import Visit
from tests.conftest import start_server
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import ChargerSpec, Runner, spec

SPEED = 60
OUTAGE = msgspec.structs.replace(load_scenario("healthy"), name="router-swap", timeline=(
    Step(at=300, event="router-change", security="wpa2-wpa3-transition"),
    Step(at=900, event="router-change", security="wpa2")))  # fmt: skip


def charger(charger_id: str, version: OcppVersion, start: float) -> ChargerSpec:
    def ev(at: float, leave: float, tag: str) -> Visit:
        return Visit(charger=0, connector=1, arrive_s=start + at, depart_s=start + leave, energy_wh=30_000,
                     capacity_wh=60_000, soc=0.3, obc_max_a=16, phases=1, id_tag=tag)  # fmt: skip

    base = spec(charger_id, version, tpl=load_template("esp32-generic"), scenario=OUTAGE, ev_at=None, start=start)
    return dataclasses.replace(base, visits=(ev(400, 500, "STRANGER"), ev(600, 40_000, "LISTED")))


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_a_listed_token_is_authorized_offline_and_its_transaction_arrives_after_the_reconnect(
    tmp_path: object, version: OcppVersion
) -> None:
    server = await start_server(tmp_path / "data", policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT,  # type: ignore[operator]
                                                                 free_charging=False))  # fmt: skip
    store = server.app.store
    await store.put_token(IdToken(id_tag="LISTED"))
    await store.put_token(IdToken(id_tag="STOLEN", status=TokenStatus.BLOCKED))
    start = time.time()
    charger_id = f"LL-{version.value}"
    runner = Runner([charger(charger_id, version, start)], url=server.ocpp_url, speed=SPEED, start=start)
    try:
        await runner.start()
        fw = runner.drivers[0].fw
        fw.settings.set("offline_unknown", "false")  # AllowOfflineTxForUnknownId false: only the list authorizes
        local = fw.station.local_auth
        await until(lambda: fw.registered and charger_id in server.app.registry, 4)
        async with (
            aiohttp.ClientSession(headers=server.headers) as http,  # what `tokens push CHARGER` does
            http.post(f"{server.http_url}/api/v1/chargers/{charger_id}/local-list", json={}) as r,
        ):
            pushed = await r.json()
        assert r.status == 200 and [s["update_type"] for s in pushed["sent"]] == ["Full"], pushed
        assert set(local.entries) == {"LISTED", "STOLEN"} and local.entries["STOLEN"].status == "Blocked"
        assert local.version == 1
        await until(lambda: not fw.accepted, 10)  # the router swap takes the link down
        await until(lambda: fw.connectors[0].tx is not None, 10)
        assert fw.connectors[0].tx.id_tag == "LISTED"
        assert not [t for t in await store.list_transactions(charger_id=charger_id)]  # nothing reached us yet
        notes = "\n".join(fw.log)
        assert "offline: id tag STRANGER decided by the unknown token" in notes
        assert "offline: id tag LISTED decided by the local list (Accepted)" in notes
        await until(lambda: fw.accepted, 20)  # the router is back to WPA2: it reconnects
        await until(lambda: len(fw.outbox) == 0, 10)
        [tx] = await store.list_transactions(charger_id=charger_id)
        assert tx.id_tag == "LISTED" and tx.active
        async with aiohttp.ClientSession(headers=server.headers) as http:
            async with http.get(f"{server.http_url}/api/v1/chargers/{charger_id}/local-list") as r:
                held = await r.json()
            assert held["version"] == 1 and [e["id_tag"] for e in held["entries"]] == ["LISTED", "STOLEN"]
            # a token blocked while connected: the next sweep sends a Differential and clears the cache
            local.remember("LISTED", True)
            server.app.local_lists.every = 0.5  # type: ignore[union-attr]
            server.app.local_lists._wake.set()  # type: ignore[union-attr]
            await store.set_token_status("LISTED", TokenStatus.BLOCKED)
            await until(lambda: local.version == 2 and local.cache == {}, 10)  # SendLocalList, then ClearCache
            assert local.entries["LISTED"].status == "Blocked"
            assert "SendLocalList Differential version 2 (1 entries): Accepted" in "\n".join(fw.log)
            async with http.post(f"{server.http_url}/api/v1/chargers/{charger_id}/local-list", json={}) as r:
                pushed = await r.json()
            assert r.status == 200 and pushed["sent"] == [] and pushed["version"] == 2  # up to date
            async with http.post(f"{server.http_url}/api/v1/chargers/NOPE/local-list", json={}) as r:
                problem = await r.json()
            assert r.status == 409 and "not connected" in problem["error"] and problem["fix"]
    finally:
        await runner.stop()
        await server.app.stop()
    assert runner.errors() == []


async def test_a_charger_nobody_pushed_a_list_to_is_sent_none_unasked(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data")
    await server.app.store.put_token(IdToken(id_tag="ANY"))
    server.app.local_lists.every = 0.2  # type: ignore[union-attr]
    try:
        async with websockets.connect(f"{server.ocpp_url}/QUIET", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]))
            await ws.recv()
            with pytest.raises(TimeoutError):  # no GetConfiguration, GetLocalListVersion or SendLocalList
                await asyncio.wait_for(ws.recv(), 2.5)
    finally:
        await server.app.stop()
