"""The hostile frames reported in issue 10, each over a real WebSocket: the sender gets the spec's CallError,
a bystander's Heartbeat is answered at once, and nothing of them is stored."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from tests.conftest import RunningServer
from tests.fuzz.run import connect

STALL = ('[2,"s1","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2026-12-01T00:00:00Z",'
         '"sampledValue":[{"value":1.0,"unitOfMeasure":{"multiplier":10000000}}]}]}]')  # fmt: skip
FRAMES = [
    ("2.0.1", STALL, ["s1", "PropertyConstraintViolation"]),
    ("1.6", '[2,"c1","MeterValues",{"connectorId":9223372036854775808,"meterValue":[{"timestamp":'
            '"2026-12-01T00:00:00Z","sampledValue":[{"value":"1"}]}]}]', ["c1", "PropertyConstraintViolation"]),
    ("1.6", '[2,"c2","MeterValues",{"connectorId":2147483648,"meterValue":[{"timestamp":'
            '"2026-12-01T00:00:00Z","sampledValue":[{"value":"1"}]}]}]', ["c2", "PropertyConstraintViolation"]),
    ("2.0.1", '[2,"t1","StatusNotification",{"timestamp":"0001-01-01T00:00:00+01:00","connectorStatus":'
              '"Available","evseId":1,"connectorId":1}]', ["t1", "PropertyConstraintViolation"]),
    ("1.6", "[" * 999 + "]" * 999, ["-1", "FormationViolation"]),
    ("2.0.1", "[" * 999 + "]" * 999, ["-1", "RpcFrameworkError"]),
    ("2.0.1", '[2,"d1","DataTransfer",{"vendorId":"x","data":' + "[" * 999 + "]" * 999 + "}]",
     ["d1", "FormatViolation"]),
]  # fmt: skip


@pytest.mark.parametrize(("version", "text", "answer"), FRAMES, ids=[f"{v}-{a[0]}" for v, _, a in FRAMES])
async def test_the_sender_gets_a_call_error_and_the_bystander_is_served(
    server: RunningServer, version: str, text: str, answer: list[str]
) -> None:
    bad, bystander = await connect(server.ocpp_url, "HOSTILE", version), await connect(server.ocpp_url, "BY", "1.6")
    try:
        await bad.send(text)
        started = time.perf_counter()
        await bystander.send('[2,"hb","Heartbeat",{}]')
        assert json.loads(await asyncio.wait_for(bystander.recv(), 5))[:2] == [3, "hb"]
        assert time.perf_counter() - started < 0.5  # the stall had held every charger for 5.8 s
        reply = json.loads(await asyncio.wait_for(bad.recv(), 5))
        assert [reply[0], *reply[1:3]] == [4, *answer], reply
        await bad.send('[2,"hb","Heartbeat",{}]')  # the link stays open (999 brackets had closed it with 1011)
        assert json.loads(await asyncio.wait_for(bad.recv(), 5))[:2] == [3, "hb"]
    finally:
        await bad.close()
        await bystander.close()


@pytest.mark.parametrize(("value", "unit"), [("1e308", "kWh"), ("1e16", "Wh"), ("NaN", "Wh"), ("-Infinity", "Wh")])
async def test_a_non_finite_reading_is_refused_and_the_transaction_stays_readable(
    server: RunningServer, value: str, unit: str
) -> None:
    ws = await connect(server.ocpp_url, "CP1", "1.6")
    try:
        start = {"connectorId": 1, "idTag": "T", "meterStart": 100, "timestamp": "2026-12-01T10:00:00Z"}
        await ws.send(json.dumps([2, "s", "StartTransaction", start]))
        tx_id = json.loads(await ws.recv())[2]["transactionId"]
        sample = {"timestamp": "2026-12-01T10:05:00Z", "sampledValue": [{"value": value, "unit": unit}]}
        await ws.send(json.dumps([2, "m", "MeterValues", {"connectorId": 1, "transactionId": tx_id,
                                                          "meterValue": [sample]}]))  # fmt: skip
        assert json.loads(await ws.recv())[:3] == [4, "m", "PropertyConstraintViolation"]
        stop = {"transactionId": tx_id, "meterStop": 200, "timestamp": "2026-12-01T10:10:00Z",
                "transactionData": [sample]}  # fmt: skip
        await ws.send(json.dumps([2, "e", "StopTransaction", stop]))
        assert json.loads(await ws.recv())[:3] == [4, "e", "PropertyConstraintViolation"]
    finally:
        await ws.close()
    async with (
        aiohttp.ClientSession(server.http_url, headers=server.headers) as http,
        http.get(f"/api/v1/transactions/{tx_id}") as got,
    ):
        assert got.status == 200
        body = await got.json()
    assert (body["stopped_at"], body["meter_stop_wh"], body["meter_samples"]) == (None, None, [])  # nothing stored
