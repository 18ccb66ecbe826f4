"""The command line: every error is one line with the fix and exit code 2, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16

from tests.e2e.server_process import ServerProcess


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


def test_charger_and_token_admin(tmp_path: Path) -> None:
    env = {"CHARGEWISE_DATA_DIR": str(tmp_path / "data")}  # the environment variable, not --data-dir
    assert (
        cli(
            "chargers", "add", "CP-1", "--password", "sixteen-chars-ok!", "--quirks", "long-strings", env=env
        ).returncode
        == 0
    )
    assert cli("chargers", "add", "CP-2", "--pending", env=env).returncode == 0
    one_line_error(cli("chargers", "add", "CP-1", env=env), "exists already")
    one_line_error(cli("chargers", "add", "CP-3", "--password", "short", env=env), "16 to 40")
    one_line_error(cli("chargers", "add", "CP-4", "--quirks", "be-nice", env=env), "unknown quirk", "long-strings")
    one_line_error(cli("chargers", "approve", "CP-9", env=env), "no charger 'CP-9'")
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
                       "--server", "http://127.0.0.1:9"), "cannot reach the server")  # fmt: skip


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


@pytest.mark.slow
async def test_serve_with_no_arguments(tmp_path: Path) -> None:
    """`chargewise serve` with no arguments: ports 9000/8080, ./data, unknown chargers Pending."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "chargewise", "serve", cwd=tmp_path,
                                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        for _ in range(100):
            try:
                async with websockets.connect("ws://127.0.0.1:9000/ocpp/FRESH", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
                    await ws.send(json.dumps([2, "1", "BootNotification",
                                              {"chargePointVendor": "A", "chargePointModel": "B"}]))  # fmt: skip
                    assert json.loads(await ws.recv())[2]["status"] == "Pending"
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("chargewise serve did not accept a charger on port 9000")
        assert (tmp_path / "data" / "chargewise.db").exists() and (tmp_path / "data" / "admin-token").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, output
    text = output.decode()
    assert "admin token" in text and "ws://0.0.0.0:9000/ocpp/" in text and "Traceback" not in text
