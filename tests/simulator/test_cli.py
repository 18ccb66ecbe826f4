"""``chargewise simulate``: arguments, one-line errors, a short run against the minimal CSMS."""

from __future__ import annotations

import argparse

import pytest

from chargewise.simulator import cli

from .ocpp_csms import Csms


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "http://x/ocpp"], "--url must start with ws:// or wss://"),
        (["--url", "ws://x/ocpp", "--chargers", "0"], "--chargers must be at least 1"),
        (["--url", "ws://x/ocpp", "--template", "toaster"], "unknown template 'toaster'; choose one of"),
        (["--url", "ws://x/ocpp", "--scenario", "flood"], "unknown scenario 'flood'; choose one of"),
        (["--url", "ws://x/ocpp", "--workload", "acn"], "--workload acn needs --acn-file PATH"),
        (["--url", "ws://x/ocpp", "--speed", "0"], "--speed must be positive"),
    ],
)
async def test_bad_arguments_are_one_line_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli.run(parse(*argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("chargewise simulate: error: ")


async def test_a_short_run_against_a_csms(capsys: pytest.CaptureFixture[str]) -> None:
    async with Csms() as csms:
        args = parse("--url", csms.url, "--chargers", "3", "--ocpp", "2.0.1", "--duration", "120", "--speed", "60",
                     "--workload", "none", "--id-prefix", "CLI", "--ramp", "0")  # fmt: skip
        assert await cli.run(args) == 0
    assert {r.charger_id for r in csms.messages(action="BootNotification")} == {"CLI1", "CLI2", "CLI3"}
    out = capsys.readouterr().out
    assert "connected at the end" in out and "3/3" in out


async def test_nothing_listening_is_exit_1_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("--url", "ws://127.0.0.1:9/ocpp", "--duration", "30", "--speed", "30", "--workload", "none")
    assert await cli.run(args) == 1
    err = capsys.readouterr().err
    assert "no charger connected to ws://127.0.0.1:9/ocpp (tcp x" in err and err.count("\n") == 1
