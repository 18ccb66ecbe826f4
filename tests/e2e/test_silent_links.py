"""A server killed while chargers were connected leaves their connected flags set in the database; the restarted
server records the ones that never came back as offline, as of when they were last heard from."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import websockets

from chargewise import bootstrap
from chargewise.adapters.sql import open_store
from chargewise.services import central
from tests.conftest import start_server
from tests.e2e.server_process import ServerProcess
from tests.e2e.test_kill_durability import rpc


async def test_a_charger_that_never_came_back_after_a_kill_is_recorded_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    killed = ServerProcess(data)
    await killed.start()
    try:
        ws = await websockets.connect(f"{killed.ocpp_url}/LEFT", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
        await rpc(ws, "b", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "K"})
        killed.kill()  # the link is still open: no disconnect can be recorded
        with contextlib.suppress(websockets.ConnectionClosed, OSError):
            await ws.close()
    finally:
        killed.terminate()
    store = await open_store(f"sqlite+aiosqlite:///{data / 'chargewise.db'}")
    try:
        left = await store.get_charger("LEFT")
    finally:
        await store.close()
    assert left is not None and left.connected and left.offline_since is None  # what the kill left behind
    assert left.last_seen is not None

    # the restarted server's own background task does the work: seconds here instead of eleven minutes
    monkeypatch.setattr(central, "TOUCH_EVERY", timedelta(0))
    monkeypatch.setattr(bootstrap, "SILENT_EVERY", 0.1)
    running = await start_server(data)
    try:
        running.app.central.policy = dataclasses.replace(
            running.app.central.policy, heartbeat_interval=1, pending_retry_interval=1
        )
        charger = left
        for _ in range(60):
            charger = await running.app.store.get_charger("LEFT") or charger
            if not charger.connected:
                break
            await asyncio.sleep(0.1)
        assert (charger.connected, charger.offline_since) == (False, left.last_seen)
    finally:
        await running.app.stop()

    # and the operator's CLI, reading the same database, says so
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargewise", "chargers", "list", "--data-dir", str(data),
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    out, _ = await asyncio.wait_for(cli.communicate(), 60)
    assert cli.returncode == 0
    [row] = [line for line in out.decode().splitlines() if "LEFT" in line]
    assert [cell.strip() for cell in row.split("│")][4] == "no", out.decode()
