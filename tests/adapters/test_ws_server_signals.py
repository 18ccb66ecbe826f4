"""What the WebSocket port records for the connectivity doctor: who closed a link, lost pings, replaced links
and refused handshakes of known chargers (``LinkSignals``)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import websockets

from chargewise.doctor.signals import ClosedBy, LinkEventKind, Signals
from chargewise.services.connections import LinkSettings
from tests.conftest import RunningServer, add_chargers, start_server
from tests.e2e.test_keepalive import silent_charger


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data", link=LinkSettings(ping_interval=0.2, ping_timeout=0.3))
    await add_chargers(running.app, "CP1")
    try:
        yield running
    finally:
        await running.app.stop()


async def signals(server: RunningServer) -> Signals:
    now = datetime.now(UTC)
    return await server.app.central.link_signals.signals("CP1", now - timedelta(minutes=1), now)


async def test_a_silent_link_ends_by_our_ping_timeout_with_the_lost_ping(server: RunningServer) -> None:
    writer = await silent_charger("127.0.0.1", server.app.ocpp.port, "CP1")
    try:
        await asyncio.sleep(0.9)
    finally:
        writer.close()
    got = await signals(server)
    assert [(e.kind, e.closed_by, e.close_code) for e in got.links] == [
        (LinkEventKind.CONNECTED, None, None), (LinkEventKind.DISCONNECTED, ClosedBy.PING_TIMEOUT, 1006)]  # fmt: skip
    assert got.pings and got.pings[-1].rtt_s is None
    assert got.links[0].remote == "127.0.0.1" and got.ping_interval_s == 0.2


async def test_a_newer_connection_replaces_the_older_and_pongs_are_timed(server: RunningServer) -> None:
    url = f"{server.ocpp_url}/CP1"
    async with websockets.connect(url, subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
        await asyncio.sleep(0.5)
        async with websockets.connect(url, subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.1)
    got = await signals(server)
    ends = [e.closed_by for e in got.links if e.kind is LinkEventKind.DISCONNECTED]
    assert ends == [ClosedBy.REPLACED, ClosedBy.CHARGER]
    assert [p for p in got.pings if p.rtt_s is not None], got.pings


async def test_a_refused_handshake_of_a_known_charger_is_kept_and_of_an_unknown_one_not(server: RunningServer) -> None:
    for charger_id in ("CP1", "STRANGER"):
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(f"{server.ocpp_url}/{charger_id}", subprotocols=["ocpp9"]):  # type: ignore[list-item]
                pass
    got = await signals(server)
    assert [(e.kind, e.detail) for e in got.links] == [
        (LinkEventKind.REFUSED, "no supported subprotocol offered: offer ocpp1.6 or ocpp2.0.1")]  # fmt: skip
    assert server.app.central.link_signals._pending.keys() == {"CP1"}


async def test_a_wrong_password_is_kept_with_the_address_and_without_the_password(server: RunningServer) -> None:
    await server.app.admin.add("CP2", password="right-password-0001")
    wrong = "Basic " + base64.b64encode(b"CP2:wrong-password-0002").decode()
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"{server.ocpp_url}/CP2", subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                                      additional_headers={"Authorization": wrong}):  # fmt: skip
            pass
    now = datetime.now(UTC)
    got = await server.app.central.link_signals.signals("CP2", now - timedelta(minutes=1), now)
    assert [(e.kind, e.remote) for e in got.links] == [(LinkEventKind.REFUSED, "127.0.0.1")]
    assert "wrong-password" not in repr(got)
