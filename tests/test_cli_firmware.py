"""``chargewise firmware`` and ``chargewise campaign`` on the store: every bad input one line naming the option
and the fix (exit code 2), lists and details as JSON. Run in-process (``cli.main``): a subprocess per command
took ~10 s each on the shared test machine."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargewise import cli as chargewise
from chargewise.adapters.sql import open_store
from chargewise.domain.model import BootInfo, OcppVersion, Registration
from tests.test_cli import one_line_error

Capture = pytest.CaptureFixture[str]


async def boot_three(db: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{db}")
    for cid in ("CP-1", "CP-2", "CP-3"):
        await store.add_charger(cid, registration=Registration.ACCEPTED)
        await store.record_boot(cid, OcppVersion.V16, BootInfo(vendor="Acme", model="AC", firmware_version="1.0"),
                                datetime.now(UTC))  # fmt: skip
    await store.close()


def test_artifacts_and_campaigns_from_the_command_line(tmp_path: Path, capsys: Capture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("CHARGEWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHARGEWISE_NO_UVLOOP", "1")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        code = chargewise.main(list(args))
        out = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out.out, out.err)

    image = tmp_path / "fw-2.0.0.bin"
    image.write_bytes(b"version=2.0.0\n" + b"\x00" * 100)
    one_line_error(cli("firmware", "add", str(image), "--version", "2.0.0", "--sha256", "ab" * 32),
                   "--sha256: the file's SHA-256 is ", "(check that the file is complete")  # fmt: skip
    one_line_error(cli("firmware", "add", str(tmp_path / "nope.bin"), "--version", "2.0.0"),
                   "FILE: cannot read nope.bin")  # fmt: skip
    added = cli("firmware", "add", str(image), "--version", "2.0.0", "--json")
    assert added.returncode == 0, added.stderr
    artifact = json.loads(added.stdout)
    assert (tmp_path / "data" / "firmware" / f"{artifact['id']}.bin").stat().st_size == 114
    assert [a["version"] for a in json.loads(cli("firmware", "list", "--json").stdout)] == ["2.0.0"]

    asyncio.run(boot_three(tmp_path / "data" / "chargewise.db"))

    one_line_error(cli("campaign", "start", "--version", "3.0"), "--version: no artifact has version '3.0'",
                   "chargewise firmware add FILE --version 3.0")  # fmt: skip
    one_line_error(cli("campaign", "start", "--version", "2.0.0", "--select", "vendor=Other"),
                   "--select: vendor=Other matches no charger (of 3 known)")  # fmt: skip
    one_line_error(cli("campaign", "start", "--version", "2.0.0", "--window", "night"),
                   "--window: 'night' is not HH:MM-HH:MM", "01:00-05:00")  # fmt: skip
    one_line_error(cli("campaign", "start", "--version", "2.0.0", "--batch", "150%"), "--batch: 150% is over")
    started = cli(
        "campaign",
        "start",
        "--version",
        "2.0.0",
        "--select",
        "charger=CP-*",
        "--canary",
        "1",
        "--batch",
        "50%",
        "--window",
        "22:00-04:00",
        "--timezone",
        "Europe/Berlin",
        "--json",
    )
    assert started.returncode == 0, started.stderr
    campaign = json.loads(started.stdout)
    assert campaign["groups"] == 3 and campaign["progress"]["waiting"] == 3
    assert campaign["window"] == "22:00-04:00 Europe/Berlin" and campaign["state"] == "running"
    one_line_error(cli("campaign", "start", "--version", "2.0.0", "--select", "charger=CP-1"),
                   f"charger 'CP-1' is in campaign {campaign['id']}")  # fmt: skip
    assert cli("campaign", "pause", campaign["id"]).stdout.strip() == f"campaign {campaign['id']}: paused"
    assert "abort" in cli("campaign", "abort", campaign["id"]).stdout
    one_line_error(cli("campaign", "resume", campaign["id"]), "is aborted",
                   "only a halted or paused campaign can be running")  # fmt: skip
    detail = json.loads(cli("campaign", "show", campaign["id"], "--json").stdout)
    assert [t["stage"] for t in detail["chargers"]] == ["waiting"] * 3  # the server's loop skips them next turn
    assert [n["text"] for n in detail["history"]][-2:] == ["paused", "aborted"]
    one_line_error(cli("campaign", "show", "nope"), "ID: no campaign 'nope'")


def test_serve_reads_the_download_url_and_tick_from_the_config_file(tmp_path: Path) -> None:
    from chargewise.cli import build_parser
    from chargewise.cli_commands import settings_from

    config = tmp_path / "c.toml"
    config.write_text('[firmware]\ndownload_url = "http://10.0.0.5:8080"\ncampaign_tick = 1\n')
    args = build_parser().parse_args(["serve", "--config", str(config), "--data-dir", str(tmp_path / "d")])
    firmware = settings_from(args).firmware
    assert firmware.base_url == "http://10.0.0.5:8080" and firmware.tick_s == 1.0
