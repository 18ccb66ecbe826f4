"""``chargewise certs ...`` and ``chargers rotate-password / security-profile`` against a running server with a
simulated charger: answers printed, refusals one line naming the field and the fix (exit code 2)."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import time
from pathlib import Path

from chargewise.domain.model import OcppVersion, Registration
from chargewise.services.passwords import verify_password
from chargewise.simulator.runner import Runner
from tests.conftest import RunningServer
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import spec
from tests.test_cli import cli, one_line_error

OLD, NEW = "old-password-0123456", "new-password-6543210"


async def run(server: RunningServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"CHARGEWISE_ADMIN_TOKEN": server.admin_token, "CHARGEWISE_DATA_DIR": str(tmp_path / "cli")}
    return await asyncio.to_thread(cli, *args, "--server", server.http_url, env=env)


async def test_certs_and_credentials_from_the_command_line(server: RunningServer, tmp_path: Path) -> None:
    await server.app.admin.add("CLI1", registration=Registration.ACCEPTED, password=OLD, security_profile=1)
    now = time.time()
    charger = dataclasses.replace(spec("CLI1", OcppVersion.V201, ev_at=None, start=now), password=OLD)
    runner = Runner([charger], url=server.ocpp_url, speed=20, start=now)
    await runner.start()
    try:
        await until(lambda: "CLI1" in server.app.registry and runner.drivers[0].fw.accepted, 15)
        rotated = await run(server, tmp_path, "chargers", "rotate-password", "CLI1", "--password", NEW)
        assert rotated.returncode == 0 and "CLI1 password: Accepted" in rotated.stdout, rotated
        stored = await server.app.store.get_charger("CLI1")
        assert stored is not None and stored.password_hash and verify_password(NEW, stored.password_hash)
        installed = await run(server, tmp_path, "certs", "install", "CLI1", "csms-root")
        assert installed.returncode == 0 and "InstallCertificate csms-root: Accepted" in installed.stdout, installed
        assert [kind for kind, _ in runner.drivers[0].fw.credentials.installed(None)] == ["CSMSRootCertificate"]
        one_line_error(await run(server, tmp_path, "chargers", "security-profile", "CLI1", "3"), "needs TLS",
                       "--tls-cert")  # fmt: skip
    finally:
        await runner.stop()
    assert runner.errors() == []


def test_without_a_server_or_a_file_the_error_says_what_to_give(tmp_path: Path) -> None:
    env = {"CHARGEWISE_ADMIN_TOKEN": "x", "CHARGEWISE_DATA_DIR": str(tmp_path)}
    one_line_error(cli("certs", "renew", "CP", "--server", "http://127.0.0.1:9", env=env), "cannot reach", "--server")
    one_line_error(cli("certs", "install", "CP", "mo-root", str(tmp_path / "no.pem"), env=env), "FILE", "no.pem")
    one_line_error(cli("certs", "list", "CP", "--server", "http://127.0.0.1:9", env={"CHARGEWISE_DATA_DIR": str(tmp_path)}),
                   "no admin token", "CHARGEWISE_ADMIN_TOKEN")  # fmt: skip
