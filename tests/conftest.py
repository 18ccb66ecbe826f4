"""Shared fixtures: a real chargewise server on loopback, in-process, on a fresh SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chargewise.adapters.ws_server import LinkSettings
from chargewise.bootstrap import App, Settings, start
from chargewise.services.central import Policy, UnknownChargerPolicy


@dataclass
class RunningServer:
    app: App
    ocpp_url: str  # ws://127.0.0.1:PORT/ocpp ; append /{charger_id}
    http_url: str
    admin_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


async def start_server(
    data_dir: Path,
    *,
    unknown: UnknownChargerPolicy = UnknownChargerPolicy.ACCEPT,
    link: LinkSettings | None = None,
    free_charging: bool = True,
    db_url: str | None = None,
) -> RunningServer:
    settings = Settings(
        data_dir=data_dir, db_url=db_url or f"sqlite+aiosqlite:///{data_dir / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=0, http_port=0,
        policy=Policy(unknown_chargers=unknown, heartbeat_interval=300, free_charging=free_charging),
        link=link or LinkSettings(call_timeout=5.0), admin_token="test-token",
    )  # fmt: skip
    app = await start(settings)
    assert app.http is not None
    return RunningServer(
        app=app, ocpp_url=f"ws://127.0.0.1:{app.ocpp.port}/ocpp",
        http_url=f"http://127.0.0.1:{app.http.port}", admin_token=app.admin_token,  # type: ignore[attr-defined]
    )  # fmt: skip


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A server accepting unknown chargers, free charging on; stopped after the test."""
    running = await start_server(tmp_path / "data")
    try:
        yield running
    finally:
        await running.app.stop()
