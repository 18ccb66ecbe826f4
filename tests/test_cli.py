"""The command line: every error is one line with the fix and exit code 2, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16

from chargewise.adapters.sql import open_store
from chargewise.cli import build_parser
from chargewise.cli_commands import settings_from
from chargewise.domain.model import ConnectorStatus, Registration
from chargewise.services.central import UnknownChargerPolicy
from tests.e2e.server_process import ServerProcess, free_port

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chargewise", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, **(env or {})})  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chargewise"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["serve", "--ocpp-port", "99999"], "out of range"),
        (["serve", "--workers", "0"], "at least 1"),
        (["serve", "--unknown-chargers", "maybe"], "invalid choice"),
        (["chargers"], "ACTION"),
        (["tokens", "add", "T", "--expires", "tomorrow"], "ISO 8601"),
        (["frobnicate"], "invalid choice"),
        (["simulate", "--chargers", "many"], "invalid int"),
    ],
)
def test_bad_arguments(args: list[str], fragment: str) -> None:
    one_line_error(cli(*args), fragment, "--help")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[server\nport = 1", "not valid TOML"),
        ("[link]\nping_interval = 'soon'\n", "$.link.ping_interval"),
        ("[lnik]\n", "unknown field `lnik`"),
        ("[server]\nunknown_chargers = 'maybe'\n", "accept, pending or reject"),
    ],
)
def test_bad_config_file(tmp_path: Path, content: str, fragment: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    one_line_error(cli("serve", "--config", str(config), "--data-dir", str(tmp_path / "d")), fragment)


def test_missing_config_file_and_bad_database_url(tmp_path: Path) -> None:
    one_line_error(cli("serve", "--config", str(tmp_path / "nope.toml")), "cannot read config file")
    one_line_error(cli("chargers", "list", "--db", "mysql://x/y"), "sqlite+aiosqlite", "postgresql+asyncpg")


def test_tls_options_are_checked(tmp_path: Path) -> None:
    one_line_error(cli("serve", "--tls-cert", str(tmp_path / "c.pem"), "--data-dir", str(tmp_path)), "go together")
    one_line_error(cli("serve", "--tls-client-ca", "ca.pem", "--data-dir", str(tmp_path)), "needs --tls-cert")
    one_line_error(cli("serve", "--http-tls-key", str(tmp_path / "k.pem"), "--data-dir", str(tmp_path)), "go together")


def test_charger_and_token_admin(tmp_path: Path) -> None:
    env = {"CHARGEWISE_DATA_DIR": str(tmp_path / "data")}  # the environment variable, not --data-dir
    assert (
        cli(
            "chargers", "add", "CP-1", "--password", "sixteen-chars-ok!", "--quirks", "long-strings", env=env
        ).returncode
        == 0
    )
    assert cli("chargers", "add", "CP-2", "--pending", env=env).returncode == 0
    one_line_error(cli("chargers", "add", "CP-1", env=env), "exists already", "choose another id")
    one_line_error(cli("chargers", "add", "CP-3", "--password", "short", env=env), "16 to 40")
    one_line_error(cli("chargers", "add", "CP-4", "--quirks", "be-nice", env=env), "unknown quirk", "long-strings")
    one_line_error(cli("chargers", "approve", "CP-9", env=env), "no charger 'CP-9'", "list the chargers")
    assert cli("chargers", "approve", "CP-2", env=env).returncode == 0
    listing = cli("chargers", "list", env=env).stdout
    assert "CP-1" in listing and "CP-2" in listing and "Pending" not in listing
    one_line_error(cli("chargers", "set-password", "CP-1", env=env), "PASSWORD or --clear")
    assert cli("chargers", "set-password", "CP-1", "--clear", env=env).returncode == 0
    assert cli("chargers", "remove", "CP-2", env=env).returncode == 0
    assert "CP-2" not in cli("chargers", "list", env=env).stdout
    assert cli("tokens", "add", "TAG-1", "--expires", "2030-01-01T00:00:00Z", env=env).returncode == 0
    assert cli("tokens", "block", "TAG-1", env=env).returncode == 0
    one_line_error(cli("tokens", "block", "TAG-2", env=env), "no token 'TAG-2'")
    assert "Blocked" in cli("tokens", "list", env=env).stdout
    assert cli("transactions", "list", "--active", env=env).returncode == 0


def test_call_without_a_server(tmp_path: Path) -> None:
    one_line_error(cli("call", "CP-1", "Reset", "{nope", "--data-dir", str(tmp_path)), "not valid JSON")
    one_line_error(cli("call", "CP-1", "Reset", "[]", "--data-dir", str(tmp_path)), "JSON object")
    one_line_error(cli("call", "CP-1", "Reset", '{"type": "Soft"}', "--data-dir", str(tmp_path),
                       "--server", f"http://127.0.0.1:{free_port()}"), "cannot reach the server")  # fmt: skip


class Resettable(ChargePoint16):  # type: ignore[misc]
    @on("Reset")  # type: ignore[misc]
    async def on_reset(self, type: str) -> result16.Reset:  # noqa: A002 - the library passes the field name
        return result16.Reset(status="Rejected" if type == "Hard" else "Accepted")


@pytest.mark.slow
async def test_call_prints_the_chargers_answer(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    await server.start()
    try:
        async with websockets.connect(f"{server.ocpp_url}/CALLME", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            cp = Resettable("CALLME", ws)
            task = asyncio.create_task(cp.start())
            await cp.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="C"))
            args = ("call", "CALLME", "Reset", '{"type": "Hard"}', "--server", server.http_url)
            result = await asyncio.to_thread(cli, *args, env={"CHARGEWISE_ADMIN_TOKEN": server.token})
            assert result.returncode == 0, result.stderr
            assert json.loads(result.stdout) == {"status": "Rejected"}
            result = await asyncio.to_thread(cli, "call", "CALLME", "Reset", '{"type": "Later"}', "--server",
                                             server.http_url, env={"CHARGEWISE_ADMIN_TOKEN": server.token})  # fmt: skip
            one_line_error(result, "invalid Reset payload")
            task.cancel()
        result = await asyncio.to_thread(cli, "call", "GONE", "Reset", '{"type": "Soft"}', "--server",
                                         server.http_url, env={"CHARGEWISE_ADMIN_TOKEN": server.token})  # fmt: skip
        one_line_error(result, "not connected")
    finally:
        server.terminate()


def test_serve_defaults() -> None:
    """`chargewise serve` with no arguments: ports 9000/8080 on every address, ./data, unknown chargers Pending."""
    settings = settings_from(build_parser().parse_args(["serve"]))
    assert (settings.host, settings.ocpp_port, settings.http_port) == ("0.0.0.0", 9000, 8080)
    assert settings.data_dir == Path("data") and settings.policy.unknown_chargers is UnknownChargerPolicy.PENDING


@pytest.mark.slow
async def test_serve_with_only_its_ports_given(tmp_path: Path) -> None:
    """The defaults at work, on ports this test picked (never 9000/8080: another server may listen there)."""
    ocpp_port, http_port = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "chargewise", "serve", "--ocpp-port",
                                                str(ocpp_port), "--http-port", str(http_port), cwd=tmp_path,
                                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        for _ in range(100):
            try:
                url = f"ws://127.0.0.1:{ocpp_port}/ocpp/FRESH"
                async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
                    await ws.send(json.dumps([2, "1", "BootNotification",
                                              {"chargePointVendor": "A", "chargePointModel": "B"}]))  # fmt: skip
                    assert json.loads(await ws.recv())[2]["status"] == "Pending"
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail(f"chargewise serve did not accept a charger on port {ocpp_port}")
        assert (tmp_path / "data" / "chargewise.db").exists() and (tmp_path / "data" / "admin-token").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, output
    text = output.decode()
    assert "admin token" in text and f"ws://0.0.0.0:{ocpp_port}/ocpp/" in text and "Traceback" not in text


def test_pending_reject_quirks_and_the_id_rule(tmp_path: Path) -> None:
    env = {"CHARGEWISE_DATA_DIR": str(tmp_path / "data")}
    for bad in (".", "..", "a b", "x" * 49):
        one_line_error(cli("chargers", "add", bad, env=env), "1-48 characters")
    assert cli("chargers", "add", "CP-1", env=env).returncode == 0
    assert cli("chargers", "pending", "CP-1", env=env).returncode == 0
    assert json.loads(cli("chargers", "show", "CP-1", env=env).stdout)["registration"] == "Pending"
    assert cli("chargers", "reject", "CP-1", env=env).returncode == 0
    assert "Rejected" in cli("chargers", "list", env=env).stdout
    one_line_error(cli("chargers", "reject", "CP-9", env=env), "no charger 'CP-9'")
    assert cli("chargers", "set-quirks", "CP-1", "enum-case,long-strings", env=env).returncode == 0
    assert json.loads(cli("chargers", "show", "CP-1", env=env).stdout)["quirks"] == ["enum-case", "long-strings"]
    one_line_error(cli("chargers", "set-quirks", "CP-1", "be-nice", env=env), "unknown quirk")
    one_line_error(cli("chargers", "show", "CP-9", env=env), "no charger 'CP-9'")
    one_line_error(cli("tokens", "add", "T", "--expires", "0001-01-01T00:00:00+01:00", env=env), "out of range")
    one_line_error(cli("tokens", "add", "T", "--expires", "2030-01-01T00:00:00", env=env), "no time zone")


def test_lists_are_paged(tmp_path: Path) -> None:
    env = {"CHARGEWISE_DATA_DIR": str(tmp_path / "data")}
    for n in range(3):
        assert cli("chargers", "add", f"CP-{n}", env=env).returncode == 0
    first = cli("chargers", "list", "--limit", "2", env=env)
    assert "CP-1" in first.stdout and "CP-2" not in first.stdout
    cursor = first.stdout.split("--cursor ")[1].split()[0]
    assert "2 of 3 chargers" in first.stdout
    rest = cli("chargers", "list", "--limit", "2", "--cursor", cursor, env=env).stdout
    assert "CP-2" in rest and "CP-1" not in rest and "--cursor" not in rest
    one_line_error(cli("chargers", "list", "--limit", "0", env=env), "limit 0 is out of range")
    one_line_error(cli("tokens", "list", "--cursor", cursor, env=env), "cursor", "without cursor")
    one_line_error(cli("transactions", "list", "--limit", "many", env=env), "not a whole number")


async def test_a_disconnected_chargers_connectors_list_as_offline(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'chargewise.db'}"
    store = await open_store(url)
    try:
        await store.add_charger("CP-1", registration=Registration.ACCEPTED)
        await store.record_connection("CP-1", connected=True, at=T0)
        await store.set_connector_status("CP-1", 1, 1, ConnectorStatus.CHARGING, None, T0)
        await store.record_connection("CP-1", connected=False, at=T0)
    finally:
        await store.close()
    wide = {"COLUMNS": "200"}  # rich fits the table to the terminal's width
    listing = (await asyncio.to_thread(cli, "chargers", "list", "--data-dir", str(tmp_path / "data"), env=wide)).stdout
    assert "1/1 Offline (last Charging)" in listing, listing
