"""``chargewise tokens push``, ``tokens cache-policy``, ``reservations`` and ``logs request``: bad input, and
the server's refusals, are one line with the fix (exit code 2). In-process (``cli.main``), for speed; the
subprocess form of the same rule is ``tests/test_cli.py``'s."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chargewise.cli import main
from tests.conftest import start_server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    """Exit code and stderr lines of ``chargewise ARGS`` run in this process."""
    code: int | str | None
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    return int(code or 0), err


def one_line(code: int, lines: list[str], *fragments: str) -> None:
    assert code == 2 and len(lines) == 1 and lines[0].startswith("chargewise"), lines
    assert "Traceback" not in lines[0] and all(f in lines[0] for f in fragments), lines


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["tokens", "push"], ["CHARGER or --all"]),
        (["tokens", "push", "C1", "--all"], ["CHARGER or --all"]),
        (["reservations", "add", "C1", "--token", "T"], ["--minutes or --until"]),
        (["reservations", "add", "C1", "--token", "T", "--until", "tomorrow"], ["ISO 8601", "write e.g."]),
        (["reservations", "add", "C1", "--token", "T", "--until", "2030-01-01T00:00"], ["no offset"]),
        (["reservations", "cancel", "abc"], ["not a reservation id", "reservations list"]),
        (["reservations", "add", "C1"], ["--token"]),
    ],
)
def test_bad_arguments_are_one_line(args: list[str], fragments: list[str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    one_line(*run(capsys, *args, "--data-dir", str(tmp_path)), *fragments)


async def test_the_servers_refusals_are_one_line_with_its_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    server = await start_server(tmp_path / "data")
    monkeypatch.setenv("CHARGEWISE_ADMIN_TOKEN", server.admin_token)
    monkeypatch.setenv("CHARGEWISE_NO_UVLOOP", "1")
    try:
        cases = [
            (["tokens", "push", "NOPE"], "not connected"),
            (["tokens", "cache-policy", "C1", "sometimes"], "give one of clear-on-block, keep"),
            (["reservations", "add", "NOPE", "--token", "T", "--minutes", "5"], "not connected"),
            (["reservations", "add", "NOPE", "--token", "T", "--minutes", "99999"], "next 7 days"),
            (["reservations", "cancel", "77"], "no reservation 77"),
            (["logs", "request", "NOPE"], "not connected"),
        ]
        common = ["--server", server.http_url, "--data-dir", str(tmp_path)]
        for args, fragment in cases:  # main() runs its own event loop: in a thread, beside the server's
            one_line(*await asyncio.to_thread(run, capsys, *args, *common), fragment)
        code, err = await asyncio.to_thread(run, capsys, "tokens", "push", "--all", *common)
        assert code == 0 and err == []  # no charger connected: nothing to do
    finally:
        await server.app.stop()
