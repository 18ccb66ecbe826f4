"""mDNS for real: our server announces itself (serve --mdns) and ``doctor mdns`` hears it over multicast on
the loopback interface, with the address and ports the server listens on; after it stops, it is gone.

Multicast works in this sandbox and in CI (the same machine kind: lo and eth0 carry 224.0.0.251). Where a
machine has no multicast at all, the tests skip saying so, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chargewise import cli
from chargewise.adapters.mdns import OCPP_TYPE, browse
from chargewise.bootstrap import App, Settings, start
from chargewise.services.central import Policy, UnknownChargerPolicy

pytestmark = pytest.mark.timeout(60)
LISTEN = 1.5  # seconds a browse listens: the responder answers within ~120 ms (RFC 6762 §6)


@pytest.fixture
async def multicast() -> None:
    """Skip (fail under CI=true) where no multicast socket can be opened on loopback."""
    from zeroconf.asyncio import AsyncZeroconf

    try:
        zeroconf = AsyncZeroconf(interfaces=["127.0.0.1"])
    except OSError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no multicast on loopback here ({exc}); mDNS needs a multicast-capable interface")
    await zeroconf.async_close()


@pytest.fixture
async def announced(tmp_path: Path, multicast: None) -> AsyncIterator[App]:
    settings = Settings(
        data_dir=tmp_path, db_url=f"sqlite+aiosqlite:///{tmp_path / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=0, http_port=0, admin_token="test-token", mdns=True,
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, heartbeat_interval=300),
    )  # fmt: skip
    app = await start(settings)
    try:
        yield app
    finally:
        await app.stop()


async def doctor_mdns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str]:
    monkeypatch.setenv("CHARGEWISE_NO_UVLOOP", "1")
    code = await asyncio.to_thread(
        cli.main, ["doctor", "mdns", "--interface", "127.0.0.1", "--timeout", str(LISTEN), *argv]
    )
    return code, capsys.readouterr().out


async def test_doctor_mdns_hears_our_server(announced: App, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert announced.mdns is not None and announced.http is not None
    code, out = await doctor_mdns(monkeypatch, capsys, "--json", "--charger-ip", "127.0.0.0/8")
    report = json.loads(out)
    ours = {
        s["type"]: s
        for s in report["services"]
        if s["chargewise"] and s["port"] in (announced.ocpp.port, announced.http.port)
    }
    assert set(ours) == {"_ocpp._tcp.local.", "_http._tcp.local."}, report["services"]
    ocpp = ours["_ocpp._tcp.local."]
    assert (ocpp["port"], ocpp["addresses"]) == (announced.ocpp.port, ["127.0.0.1"])
    assert ocpp["txt"] == {"path": "/ocpp", "versions": "ocpp1.6,ocpp2.0.1", "product": "chargewise", "scheme": "ws"}
    assert ours["_http._tcp.local."]["port"] == announced.http.port
    assert code == 0 and report["ok"] is True
    same = [v for v in report["verdicts"] if str(announced.ocpp.port) in v["summary"]]
    assert same and same[0]["status"] == "ok" and "on the charger's subnet 127.0.0.0/8" in same[0]["summary"]
    # the same server heard from a machine that is not on the charger's subnet: the verdict says so
    code, out = await doctor_mdns(monkeypatch, capsys, "--charger-ip", "10.20.0.31")
    assert code == 0
    assert "warn  this machine (127.0.0.1) is not in the charger's subnet 10.20.0.0/24" in out
    assert "fix: Run the check from a machine" in out


async def test_a_stopped_server_says_goodbye(tmp_path: Path, multicast: None) -> None:
    settings = Settings(data_dir=tmp_path, db_url=f"sqlite+aiosqlite:///{tmp_path / 'chargewise.db'}",
                        host="127.0.0.1", ocpp_port=0, http_port=0, admin_token="t", mdns=True)  # fmt: skip
    app = await start(settings)
    port = app.ocpp.port
    heard = await browse(seconds=LISTEN, interfaces=["127.0.0.1"], types=(OCPP_TYPE,))
    assert any(a.port == port for a in heard)
    await app.stop()
    assert not any(a.port == port for a in await browse(seconds=LISTEN, interfaces=["127.0.0.1"], types=(OCPP_TYPE,)))


@pytest.mark.parametrize(("argv", "words"), [
    (["--timeout", "x"], "--timeout 'x'"),
    (["--timeout", "-1"], "more than 0"),
    (["--charger-ip", "garage"], "--charger-ip 'garage' must be the charger's address or subnet"),
    (["--interface", "eth0"], "--interface 'eth0' must be an IPv4 address"),
])  # fmt: skip
async def test_bad_input_is_one_line(argv: list[str], words: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("CHARGEWISE_NO_UVLOOP", "1")
    assert await asyncio.to_thread(cli.main, ["doctor", "mdns", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
