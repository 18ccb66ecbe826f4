"""Shared fixtures: a real chargewise server on loopback, in-process, on a fresh SQLite store."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import pytest

from chargewise.bootstrap import App, Settings, start
from chargewise.domain.bus import Bus
from chargewise.domain.model import Registration
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.services.directory import entry_for
from chargewise.services.link_signals import Retention
from tests.external_services import require_service

PG_ADMIN = os.environ.get("CHARGEWISE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    # Session set-up runs outside the tests' event loops: give it a private one.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def _execute(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session", autouse=True)
def private_server_record(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every ``serve`` of the suite records itself here, not in ~/.local/state (cli_locate): a test's CLI must not
    find another test's server, nor the developer's."""
    old = os.environ.get("CHARGEWISE_STATE_DIR")
    os.environ["CHARGEWISE_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    yield
    if old is None:
        os.environ.pop("CHARGEWISE_STATE_DIR", None)
    else:
        os.environ["CHARGEWISE_STATE_DIR"] = old


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The asyncpg DSN of a scratch database that lives as long as the test session."""
    server = urlsplit(PG_ADMIN)
    require_service("PostgreSQL", server.hostname or "127.0.0.1", server.port or 5432, PG_START)
    name = f"chargewise_test_{secrets.token_hex(6)}"
    _run(_execute(PG_ADMIN, f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _run(_execute(PG_ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The session's database with no tables at all (migrations included), as a SQLAlchemy URL."""
    _run(_execute(postgres_database, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public"))
    return postgres_database.replace("postgresql://", "postgresql+asyncpg://", 1)


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
    policy: Policy | None = None,
    watch_radio: bool = False,
    bus: Bus | None = None,
    node: str | None = None,
    cluster: str = "main",
) -> RunningServer:
    """``policy`` replaces the one ``unknown`` and ``free_charging`` make. ``watch_radio``: after a 2.0.1 boot the
    server reads and monitors DataLink.SignalStrength (GetVariables, SetVariableMonitoring), as it does by
    default; off here, so that tests which script the frames a charger sees are not handed those two first.
    ``bus``/``node``: join a cluster (several nodes of one test process share a ``MemoryBroker``, or NATS)."""
    settings = Settings(
        data_dir=data_dir, db_url=db_url or f"sqlite+aiosqlite:///{data_dir / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=0, http_port=0,
        policy=policy or Policy(unknown_chargers=unknown, heartbeat_interval=300, free_charging=free_charging),
        link=link or LinkSettings(call_timeout=5.0), admin_token="test-token", doctor=Retention(watch_radio=watch_radio),
        node=node, cluster=cluster,
    )  # fmt: skip
    app = await start(settings, bus=bus)
    assert app.http is not None
    return RunningServer(
        app=app, ocpp_url=f"ws://127.0.0.1:{app.ocpp.port}/ocpp",
        http_url=f"http://127.0.0.1:{app.http.port}", admin_token=app.admin_token,  # type: ignore[attr-defined]
    )  # fmt: skip


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A server on SQLite accepting unknown chargers, free charging on; stopped after the test."""
    running = await start_server(tmp_path / "data")
    try:
        yield running
    finally:
        await running.app.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None (SQLite in the data directory), then an empty PostgreSQL scratch database."""
    return request.getfixturevalue("postgres_url") if request.param == "postgresql" else None  # type: ignore[no-any-return]


@pytest.fixture
async def any_db_server(db_url: str | None, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """Like ``server``, once on SQLite and once on the local PostgreSQL."""
    running = await start_server(tmp_path / "data", db_url=db_url)
    try:
        yield running
    finally:
        await running.app.stop()


async def add_chargers(app: App, *charger_ids: str, registration: Registration = Registration.ACCEPTED) -> None:
    """Add chargers the way an operator does (store and directory): a charger row is otherwise created only by
    an unknown charger's first BootNotification."""
    for charger_id in charger_ids:
        app.directory.put(entry_for(await app.store.add_charger(charger_id, registration=registration)))
