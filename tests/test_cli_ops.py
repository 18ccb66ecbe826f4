"""The CLI reaching a running server's store and REST API from another directory (the server's record), never
creating an empty store from a read command; ``status --json``, ``--json`` lists, ``trace`` and completion."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from chargewise.cli import build_parser, main
from chargewise.cli_ops import completion_script
from tests.e2e.server_process import ServerProcess
from tests.test_cli import cli, one_line_error


def test_a_read_command_never_creates_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHARGEWISE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CHARGEWISE_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    for args in (["chargers", "list"], ["tokens", "list", "--json"], ["transactions", "list"], ["chargers", "show", "X"]):
        assert main(args) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and "no chargewise store at" in lines[0] and "--data-dir" in lines[0], lines
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
async def test_the_cli_finds_the_running_server_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEWISE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CHARGEWISE_DATA_DIR", raising=False)
    monkeypatch.delenv("CHARGEWISE_ADMIN_TOKEN", raising=False)
    server = ServerProcess(tmp_path / "srv" / "data")
    server.data_dir.mkdir(parents=True)
    (server.data_dir / "admin-token").write_text(server.token + "\n")  # what serve keeps when it makes the token
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    await server.start()
    try:
        record = json.loads((tmp_path / "state" / "server.json").read_text())
        assert record["data_dir"] == str(server.data_dir.resolve()) and record["http_url"] == server.http_url

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            result = cli(*args, cwd=elsewhere, env={"CHARGEWISE_ADMIN_TOKEN": ""})
            assert result.returncode == 0, result
            return result

        await asyncio.to_thread(run, "chargers", "add", "CP-1")
        assert [c["id"] for c in json.loads((await asyncio.to_thread(run, "chargers", "list", "--json")).stdout)] == [
            "CP-1"]  # fmt: skip
        assert json.loads((await asyncio.to_thread(run, "tokens", "list", "--json")).stdout) == []
        assert json.loads((await asyncio.to_thread(run, "transactions", "list", "--json")).stdout) == []
        view = json.loads((await asyncio.to_thread(run, "status", "--json")).stdout)
        assert view["chargers"] == {"total": 1, "online": 0, "offline": 1} and view["server"] == server.http_url
        assert "CP-1" in (await asyncio.to_thread(run, "status", "--once")).stdout
        missing = await asyncio.to_thread(cli, "trace", "NOPE", cwd=elsewhere, env={"CHARGEWISE_ADMIN_TOKEN": ""})
        one_line_error(missing, "unknown charger")
        assert not (elsewhere / "data").exists()
    finally:
        server.terminate()


def test_completion_scripts_name_the_commands_and_options() -> None:
    bash = completion_script("bash", build_parser())
    assert "complete -o default -F _chargewise chargewise" in bash and '"chargers list")' in bash
    assert "--json" in bash and "bashcompinit" in completion_script("zsh", build_parser())
    syntax = subprocess.run(["bash", "-n"], input=bash, text=True, capture_output=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    probe = bash + '\nCOMP_WORDS=(chargewise chargers li); COMP_CWORD=2; _chargewise; echo "${COMPREPLY[@]}"\n'
    assert subprocess.run(["bash"], input=probe, text=True, capture_output=True, check=True).stdout.strip() == "list"
