"""``chargewise doctor probe`` against our own server on loopback: ws and wss (a test CA), a DNS sinkhole and
other broken DNS answers, an expired certificate, a wrong charger clock, a wrong subprotocol, passwords and
unknown ids; each failure must name its cause and its fix."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargewise import cli
from chargewise.adapters.probe import ProbeOptions, run_probe
from chargewise.bootstrap import App, Settings, TlsSettings, start
from chargewise.doctor.probe import Report, Status, Step, parse_target
from chargewise.domain.model import Registration
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.services.directory import entry_for
from chargewise.services.passwords import hash_password
from tests.e2e.probe_network import Pki, make_pki, start_dns, start_upgrader

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("probe-pki"))


async def serve(data_dir: Path, *, tls: tuple[Path, Path] | None = None,
                unknown: UnknownChargerPolicy = UnknownChargerPolicy.ACCEPT) -> App:  # fmt: skip
    settings = Settings(
        data_dir=data_dir, db_url=f"sqlite+aiosqlite:///{data_dir / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=0, http_port=0, admin_token="test-token", link=LinkSettings(call_timeout=5.0),
        policy=Policy(unknown_chargers=unknown, heartbeat_interval=300, free_charging=True),
        tls=TlsSettings(cert=tls[0], key=tls[1]) if tls else None,
    )  # fmt: skip
    return await start(settings, with_http=False)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    running = await serve(tmp_path / "data")
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def tls_app(tmp_path: Path, pki: Pki) -> AsyncIterator[App]:
    running = await serve(tmp_path / "tls", tls=pki.good)
    try:
        yield running
    finally:
        await running.stop()


async def probe(url: str, **options: object) -> Report:
    return await run_probe(ProbeOptions(target=parse_target(url), **{"timeout": 3.0, **options}))  # type: ignore[arg-type]


def step(report: Report, name: str) -> Step:
    return next(s for s in report.steps if s.name == name)


def failed_with(report: Report, name: str, problem: str, *words: str) -> Step:
    """The report fails at ``name`` with ``problem``, its explanation and fix name ``words``; later steps skipped."""
    failed = report.failed
    assert failed is not None, [(s.name, s.status, s.summary) for s in report.steps]
    assert (failed.name, failed.problem) == (name, problem), (failed.summary, failed.explanation)
    text = f"{failed.summary} {failed.explanation} {failed.fix}".lower()
    for word in words:
        assert word.lower() in text, (word, text)
    after = [s for s in report.steps[report.steps.index(failed) + 1 :]]
    assert after and all(s.status is Status.SKIPPED for s in after)
    return failed


# ---------------------------------------------------------------------- the happy paths
async def test_ws_probe_boots_accepted(app: App) -> None:
    report = await probe(f"ws://127.0.0.1:{app.ocpp.port}/ocpp/CP-PROBE")
    assert report.ok, report
    assert [s.status for s in report.steps] == [Status.OK, Status.OK, Status.SKIPPED, Status.OK, Status.OK]
    assert step(report, "websocket").summary == "upgraded to a WebSocket, subprotocol ocpp1.6"
    assert step(report, "boot").summary == "Accepted, heartbeat every 300 s"
    assert all(s.elapsed_s is not None and s.elapsed_s >= 0 for s in report.steps if s.status is Status.OK)
    stored = await app.store.get_charger("CP-PROBE")  # the server really saw a charger boot
    assert stored is not None and stored.boot is not None and stored.boot.model == "doctor-probe"


async def test_ws_probe_speaks_2_0_1(app: App) -> None:
    report = await probe(f"ws://127.0.0.1:{app.ocpp.port}/ocpp/CP-201", version="2.0.1")
    assert report.ok and step(report, "boot").summary.startswith("Accepted")
    assert dict(step(report, "websocket").details)["answered"] == "ocpp2.0.1"


async def test_wss_probe_through_our_dns_with_the_test_ca(tls_app: App, pki: Pki) -> None:
    transport, dns_server, port = await start_dns({"csms.test": "127.0.0.1"})
    try:
        report = await probe(f"wss://csms.test:{tls_app.ocpp.port}/ocpp/CP-TLS", dns_server=("127.0.0.1", port),
                             ca_file=pki.ca)  # fmt: skip
    finally:
        transport.close()
    assert report.ok, [(s.name, s.summary, s.explanation) for s in report.steps]
    dns_step = step(report, "dns")  # a loopback answer works here, a charger would dial itself: a warning
    assert (dns_step.status, dns_step.problem) == (Status.WARN, "dns_loopback")
    assert dns_step.summary.startswith(f"csms.test → 127.0.0.1 (answered by 127.0.0.1:{port} (--dns-server))")
    assert "csms.test A" in dns_server.queries
    tls = step(report, "tls")
    assert tls.status is Status.OK and "TLSv1." in tls.summary and f"--ca {pki.ca}" in tls.summary
    assert step(report, "boot").summary.startswith("Accepted")


# ---------------------------------------------------------------------- DNS
async def test_a_sinkhole_answer_stops_at_dns_and_names_the_fix(app: App) -> None:
    transport, _server, port = await start_dns({"csms.example.com": "0.0.0.0"})
    try:
        report = await probe(f"ws://csms.example.com:{app.ocpp.port}/ocpp/CP1", dns_server=("127.0.0.1", port))
    finally:
        transport.close()
    failed = failed_with(report, "dns", "dns_sinkhole", "0.0.0.0", "sinkhole", "allowlist", "@@||csms.example.com^")
    assert f"127.0.0.1:{port}" in failed.summary  # which server answered


async def test_unknown_name_and_silent_resolver(app: App) -> None:
    transport, _server, port = await start_dns({})
    try:
        report = await probe(f"ws://nowhere.lan:{app.ocpp.port}/ocpp/CP1", dns_server=("127.0.0.1", port))
    finally:
        transport.close()
    failed_with(report, "dns", "dns_nxdomain", "NXDOMAIN", "spelling", "IP address")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        report = await probe("ws://csms.example.com/ocpp/CP1", dns_server=silent.getsockname(), timeout=0.3)
    failed_with(report, "dns", "dns_timeout", "did not answer", "port 53")


# ---------------------------------------------------------------------- TCP and TLS
async def test_closed_port_is_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nothing listens once closed
    report = await probe(f"ws://127.0.0.1:{port}/ocpp/CP1")
    failed_with(report, "tcp", "tcp_refused", "nothing listens", "chargewise serve")


async def test_an_expired_certificate_is_named_and_the_clock_mentioned(tmp_path: Path, pki: Pki) -> None:
    app = await serve(tmp_path / "expired", tls=pki.expired)
    try:
        report = await probe(f"wss://127.0.0.1:{app.ocpp.port}/ocpp/CP1", ca_file=pki.ca)
    finally:
        await app.stop()
    failed = failed_with(report, "tls", "tls_expired", "expired", "renew", "clock", "--charger-time")
    assert dict(failed.details)["subject"] == "CN=csms.test"


async def test_a_charger_clock_outside_the_window_fails_a_good_certificate(tls_app: App, pki: Pki) -> None:
    url = f"wss://127.0.0.1:{tls_app.ocpp.port}/ocpp/CP1"
    report = await probe(url, ca_file=pki.ca, charger_time=datetime(2020, 1, 1, tzinfo=UTC))
    failed_with(report, "tls", "charger_clock", "2020-01-01", "NTP")


async def test_untrusted_chain_and_wrong_name(tls_app: App, pki: Pki) -> None:
    port = tls_app.ocpp.port
    failed_with(await probe(f"wss://127.0.0.1:{port}/ocpp/CP1"), "tls", "tls_untrusted", "full chain", "--ca")
    report = await probe(f"wss://localhost:{port}/ocpp/CP1", ca_file=pki.ca)  # the certificate names csms.test
    assert step(report, "dns").problem == "dns_loopback" and step(report, "dns").status is Status.WARN
    failed_with(report, "tls", "tls_hostname", "csms.test", "localhost", "subjectAltName")


async def test_wss_to_a_plain_port_and_ws_to_a_tls_port(app: App, tls_app: App) -> None:
    failed_with(await probe(f"wss://127.0.0.1:{app.ocpp.port}/ocpp/CP1", timeout=1.0), "tls", "tls_handshake", "ws://")
    report = await probe(f"ws://127.0.0.1:{tls_app.ocpp.port}/ocpp/CP1", timeout=1.0)
    failed_with(report, "websocket", "ws_no_response", "port")


# ---------------------------------------------------------------------- WebSocket upgrade and boot
@pytest.mark.parametrize(("answered", "problem", "words"), [
    (None, "subprotocol_missing", ("no Sec-WebSocket-Protocol", "--ocpp 2.0.1")),
    ("ocpp2.0.1", "subprotocol_mismatch", ("ocpp2.0.1", "did not offer")),
])  # fmt: skip
async def test_a_wrong_subprotocol_is_caught(answered: str | None, problem: str, words: tuple[str, ...]) -> None:
    server, port = await start_upgrader(answered)
    try:
        report = await probe(f"ws://127.0.0.1:{port}/ocpp/CP1")
    finally:
        server.close()
    failed_with(report, "websocket", problem, *words)


async def test_passwords(app: App) -> None:
    charger = await app.store.add_charger("CP-PW", registration=Registration.ACCEPTED,
                                          password_hash=hash_password("right-password-1234"))  # fmt: skip
    app.directory.put(entry_for(charger))
    url = f"ws://127.0.0.1:{app.ocpp.port}/ocpp/CP-PW"
    failed_with(await probe(url), "websocket", "unauthorized", "wants a password", "set-password CP-PW")
    failed_with(await probe(url, password="wrong-password-1234"), "websocket", "unauthorized", "refused the password")
    report = await probe(url, password="right-password-1234")
    assert report.ok and step(report, "tls").problem == "tls_none"  # a password over ws:// is a warning


async def test_unknown_ids_by_policy(tmp_path: Path) -> None:
    rejecting = await serve(tmp_path / "reject", unknown=UnknownChargerPolicy.REJECT)
    try:
        report = await probe(f"ws://127.0.0.1:{rejecting.ocpp.port}/ocpp/NOBODY")
    finally:
        await rejecting.stop()
    failed = failed_with(report, "websocket", "not_found", "NOBODY", "chargewise chargers add NOBODY")
    assert "unknown charger NOBODY" in failed.explanation  # the server's own reason is passed on
    pending = await serve(tmp_path / "pending", unknown=UnknownChargerPolicy.PENDING)
    try:
        report = await probe(f"ws://127.0.0.1:{pending.ocpp.port}/ocpp/NEWBIE")
    finally:
        await pending.stop()
    assert report.ok and step(report, "boot").problem == "boot_pending"
    assert "chargewise chargers approve NEWBIE" in step(report, "boot").fix


# ---------------------------------------------------------------------- the command, in-process
async def cli_main(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("CHARGEWISE_NO_UVLOOP", "1")  # the test's loop policy stays as it is
    return await asyncio.to_thread(cli.main, argv)


async def test_cli_prints_json_and_text(app: App, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    url = f"ws://127.0.0.1:{app.ocpp.port}/ocpp/CP-CLI"
    assert await cli_main(["doctor", "probe", url, "--json"], monkeypatch) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and [s["status"] for s in out["steps"]] == ["ok", "ok", "skipped", "ok", "ok"]
    assert out["steps"][4]["details"]["status"] == "Accepted"
    assert await cli_main(["doctor", "probe", url.replace(str(app.ocpp.port), "1"), "--timeout", "1"], monkeypatch) == 1
    text = capsys.readouterr().out
    assert "FAIL  tcp" in text and "fix: " in text and "result: a charger stops at the tcp step (tcp_refused)" in text


@pytest.mark.parametrize(("argv", "words"), [
    (["http://h/ocpp/CP1"], "use ws:// or wss://"),
    (["ws://h:9000/"], "must end with the charger's id"),
    (["ws://h:99999/ocpp/CP1"], "malformed"),
    (["ws:///ocpp/CP1"], "names no host"),
    (["ws://h/ocpp/CP1", "--dns-server", "router"], "--dns-server 'router'"),
    (["ws://h/ocpp/CP1", "--timeout", "soon"], "--timeout 'soon'"),
    (["ws://h/ocpp/CP1", "--timeout", "0"], "more than 0"),
    (["wss://h/ocpp/CP1", "--ca", "/no/such.pem"], "--ca /no/such.pem: no such file"),
    (["ws://h/ocpp/CP1", "--charger-time", "yesterday"], "--charger-time 'yesterday'"),
])  # fmt: skip
async def test_bad_input_is_one_line(argv: list[str], words: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert await cli_main(["doctor", "probe", *argv], monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chargewise: error: ") and words in err, err
