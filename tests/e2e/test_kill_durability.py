"""SIGKILL right after acknowledgements: a restarted server on the same database has every acknowledged record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import websockets

from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.slow
T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def ts(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def rpc(ws: websockets.ClientConnection, unique_id: str, action: str, payload: dict[str, object]) -> object:
    await ws.send(json.dumps([2, unique_id, action, payload]))
    answer = json.loads(await ws.recv())
    assert answer[0] == 3 and answer[1] == unique_id, answer
    return answer[2]


async def test_sigkill_after_ack_loses_nothing(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    await server.start()
    try:
        async with websockets.connect(f"{server.ocpp_url}/KILL16", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            await rpc(ws, "b", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "K"})
            started = await rpc(ws, "s", "StartTransaction",
                                {"connectorId": 1, "idTag": "T1", "meterStart": 10_000, "timestamp": ts(0)})  # fmt: skip
            tx_id = started["transactionId"]  # type: ignore[index]
            for i in range(1, 51):
                await rpc(ws, f"m{i}", "MeterValues", {"connectorId": 1, "transactionId": tx_id, "meterValue": [
                    {"timestamp": ts(i * 10), "sampledValue": [
                        {"value": str(10_000 + i * 20), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"}]}]})  # fmt: skip
        async with websockets.connect(f"{server.ocpp_url}/KILL201", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            await rpc(ws, "b", "BootNotification",
                      {"chargingStation": {"vendorName": "Acme", "model": "K2"}, "reason": "PowerUp"})  # fmt: skip
            await rpc(ws, "t0", "TransactionEvent", {
                "eventType": "Started", "timestamp": ts(0), "triggerReason": "Authorized", "seqNo": 0,
                "transactionInfo": {"transactionId": "k-201"}, "evse": {"id": 1, "connectorId": 1},
                "meterValue": [{"timestamp": ts(0), "sampledValue": [{"value": 500}]}]})  # fmt: skip
            await rpc(ws, "t1", "TransactionEvent", {
                "eventType": "Updated", "timestamp": ts(60), "triggerReason": "MeterValuePeriodic", "seqNo": 1,
                "transactionInfo": {"transactionId": "k-201"},
                "meterValue": [{"timestamp": ts(60), "sampledValue": [{"value": 1700}]}]})  # fmt: skip
        server.kill()  # no chance to flush anything: only what was committed before each answer survives

        await server.start()
        tx = await server.get(f"/api/v1/transactions/{tx_id}")
        assert isinstance(tx, dict)
        assert tx["active"] is True and tx["meter_start_wh"] == 10_000
        assert len(tx["meter_samples"]) == 100 and tx["energy_wh"] == 1000.0
        txs = await server.get("/api/v1/transactions?charger_id=KILL201")
        assert isinstance(txs, list) and len(txs) == 1 and txs[0]["energy_wh"] == 1200.0
    finally:
        server.terminate()
