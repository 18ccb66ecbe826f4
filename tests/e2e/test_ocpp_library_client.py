"""The server driven by a charger implementation we did not write: the `ocpp` package's client class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from tests.conftest import RunningServer
from tests.e2e.ocpp_clients import connect

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def ts(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


async def get_json(server: RunningServer, path: str) -> object:
    async with aiohttp.ClientSession() as http, http.get(server.http_url + path, headers=server.headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_v16_session_end_to_end(any_db_server: RunningServer) -> None:
    server = any_db_server
    async with connect(server.ocpp_url, "LIB16", "1.6") as cp:
        boot = await cp.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="Lib-1"))
        assert boot.status == "Accepted" and boot.interval == 300
        assert (await cp.call(call16.Authorize(id_tag="TAG1"))).id_tag_info["status"] == "Accepted"
        started = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=ts(0))
        )
        tx_id = started.transaction_id
        for i, register in enumerate((2000, 3500)):
            await cp.call(call16.MeterValues(connector_id=1, transaction_id=tx_id, meter_value=[{
                "timestamp": ts(5 * (i + 1)),
                "sampledValue": [{"value": str(register), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                                 {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW",
                                  "location": "Outlet"}],
            }]))  # fmt: skip
        await cp.call(call16.StopTransaction(meter_stop=4500, timestamp=ts(15), transaction_id=tx_id, reason="Local"))
    tx = await get_json(server, f"/api/v1/transactions/{tx_id}")
    assert isinstance(tx, dict)
    assert tx["energy_wh"] == 3500.0 and tx["active"] is False and tx["stop_reason"] == "Local"
    power = [s["value"] for s in tx["meter_samples"] if s["measurand"] == "Power.Active.Import"]
    assert power == [7200.0, 7200.0]  # kW normalised to W
    assert {s["location"] for s in tx["meter_samples"] if s["measurand"] == "Power.Active.Import"} == {"Outlet"}
    charger = await get_json(server, "/api/v1/chargers/LIB16")
    assert isinstance(charger, dict)
    assert charger["boot"]["vendor"] == "Acme" and charger["ocpp_version"] == "1.6"


async def test_v201_session_end_to_end(any_db_server: RunningServer) -> None:
    server = any_db_server
    async with connect(server.ocpp_url, "LIB201", "2.0.1") as cp:
        boot = await cp.call(call201.BootNotification(
            charging_station={"model": "Lib-2", "vendor_name": "Acme"}, reason="PowerUp"))  # fmt: skip
        assert boot.status == "Accepted"
        auth = await cp.call(call201.Authorize(id_token={"id_token": "TAG2", "type": "ISO14443"}))
        assert auth.id_token_info["status"] == "Accepted"
        common = {"transaction_info": {"transaction_id": "tx-abc"}, "evse": {"id": 1, "connector_id": 1}}

        def register(wh: float, minutes: float) -> list[dict[str, object]]:
            return [
                {
                    "timestamp": ts(minutes),
                    "sampled_value": [
                        {"value": wh, "measurand": "Energy.Active.Import.Register", "unit_of_measure": {"unit": "Wh"}}
                    ],
                }
            ]

        await cp.call(call201.TransactionEvent(event_type="Started", timestamp=ts(0), trigger_reason="Authorized",
            seq_no=0, id_token={"id_token": "TAG2", "type": "ISO14443"}, meter_value=register(500, 0), **common))  # fmt: skip
        await cp.call(call201.MeterValues(evse_id=1, meter_value=register(900, 2)))
        await cp.call(call201.TransactionEvent(event_type="Updated", timestamp=ts(5), trigger_reason="MeterValuePeriodic",
            seq_no=1, meter_value=register(1500, 5), **common))  # fmt: skip
        # a retried event (same seqNo) is acknowledged and not stored twice
        await cp.call(call201.TransactionEvent(event_type="Updated", timestamp=ts(5), trigger_reason="MeterValuePeriodic",
            seq_no=1, meter_value=register(1500, 5), **common))  # fmt: skip
        await cp.call(call201.TransactionEvent(event_type="Ended", timestamp=ts(10), trigger_reason="EVDeparted",
            seq_no=2, meter_value=register(2750, 10), **common))  # fmt: skip
    txs = await get_json(server, "/api/v1/transactions?charger_id=LIB201")
    assert isinstance(txs, list) and len(txs) == 1
    tx = await get_json(server, f"/api/v1/transactions/{txs[0]['id']}")
    assert isinstance(tx, dict)
    assert tx["remote_id"] == "tx-abc" and tx["energy_wh"] == 2250.0 and tx["active"] is False
    assert [s["value"] for s in tx["meter_samples"]] == [500.0, 1500.0, 2750.0]
