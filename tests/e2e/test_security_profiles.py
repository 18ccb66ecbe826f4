"""Security profiles 2 (TLS + Basic auth) and 3 (mutual TLS: the certificate's identity must match the id)."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import websockets

from chargewise.bootstrap import App, TlsSettings, start
from chargewise.domain.model import Registration
from tests.conftest import start_server

BOOT = json.dumps([2, "b", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "TLS"}])


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1, client certificates for CP3 and OTHER, a self-signed CP3."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=test-ca", cwd=d)  # fmt: skip
    for name, subject, ext in (("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1"),
                               ("cp3", "/CN=CP3", "extendedKeyUsage=clientAuth"),
                               ("other", "/CN=OTHER", "extendedKeyUsage=clientAuth")):  # fmt: skip
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", subject, cwd=d)  # fmt: skip
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)  # fmt: skip
    # a certificate naming CP3 that our CA never signed
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem", "-days", "2",
            "-subj", "/CN=CP3", "-addext", "extendedKeyUsage=clientAuth", cwd=d)  # fmt: skip
    return d


@pytest.fixture
async def tls_app(tmp_path: Path, pki: Path) -> AsyncIterator[App]:
    plain = await start_server(tmp_path / "data")
    settings = replace(plain.app.settings, tls=TlsSettings(cert=pki / "server.pem", key=pki / "server.key",
                                                           client_ca=pki / "ca.pem"))  # fmt: skip
    await plain.app.stop()
    app = await start(settings)
    try:
        yield app
    finally:
        await app.stop()


def client_context(pki: Path, cert: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if cert is not None:
        context.load_cert_chain(pki / f"{cert}.pem", pki / f"{cert}.key")
    return context


async def boot_status(url: str, context: ssl.SSLContext, **kwargs: object) -> str:
    async with websockets.connect(url, subprotocols=["ocpp1.6"], ssl=context, **kwargs) as ws:  # type: ignore[list-item, arg-type]
        await ws.send(BOOT)
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        return str(answer[2]["status"])


async def test_profile_2_tls_with_basic_auth(tls_app: App, pki: Path) -> None:
    from chargewise.services.directory import entry_for
    from chargewise.services.passwords import hash_password

    charger = await tls_app.store.add_charger("CP2", registration=Registration.ACCEPTED,
                                              password_hash=hash_password("profile-two-secret!"))  # fmt: skip
    tls_app.directory.put(entry_for(charger))
    url = f"wss://127.0.0.1:{tls_app.ocpp.port}/ocpp/CP2"
    auth = {"Authorization": "Basic " + base64.b64encode(b"CP2:profile-two-secret!").decode()}
    assert await boot_status(url, client_context(pki, None), additional_headers=auth) == "Accepted"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await boot_status(url, client_context(pki, None))
    assert refused.value.response.status_code == 401


async def test_certificate_must_name_the_charger(tls_app: App, pki: Path) -> None:
    url = f"wss://127.0.0.1:{tls_app.ocpp.port}/ocpp/CP3"
    assert await boot_status(url, client_context(pki, "cp3")) == "Accepted"
    with pytest.raises(websockets.InvalidStatus) as refused:  # refused at the handshake, before any upgrade
        await boot_status(url, client_context(pki, "other"))
    assert refused.value.response.status_code == 403
    assert b"OTHER" in refused.value.response.body


async def test_plain_ws_is_not_served_on_a_tls_port(tls_app: App) -> None:
    with pytest.raises((websockets.InvalidMessage, ConnectionError, EOFError, OSError)):
        async with websockets.connect(f"ws://127.0.0.1:{tls_app.ocpp.port}/ocpp/CP9", subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                                      open_timeout=3):  # fmt: skip
            pass


async def add(app: App, charger_id: str, *, profile: int | None, password: str | None = None) -> None:
    from chargewise.services.directory import entry_for
    from chargewise.services.passwords import hash_password

    charger = await app.store.add_charger(charger_id, registration=Registration.ACCEPTED, security_profile=profile,
                                          password_hash=None if password is None else hash_password(password))  # fmt: skip
    app.directory.put(entry_for(charger))


def basic(charger_id: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{charger_id}:{password}".encode()).decode()}


async def refused_status(url: str, context: ssl.SSLContext, **kwargs: object) -> int:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await boot_status(url, context, **kwargs)
    return refused.value.response.status_code


async def test_profile_3_needs_its_certificate_on_a_port_that_serves_profile_2(tls_app: App, pki: Path) -> None:
    """--tls-client-ca without --require-client-cert: certificates are optional on the port, yet a charger
    registered for profile 3 is admitted only with a certificate naming it, whatever password it knows."""
    await add(tls_app, "CP2", profile=2, password="profile-two-secret!")
    await add(tls_app, "CP3", profile=3, password="profile-three-secret")
    base = f"wss://127.0.0.1:{tls_app.ocpp.port}/ocpp"
    two = basic("CP2", "profile-two-secret!")
    assert await boot_status(f"{base}/CP2", client_context(pki, None), additional_headers=two) == "Accepted"
    no_cert = client_context(pki, None)
    assert await refused_status(f"{base}/CP3", no_cert, additional_headers=basic("CP3", "profile-three-secret")) == 403
    assert await refused_status(f"{base}/CP3", client_context(pki, "other")) == 403
    with pytest.raises((ssl.SSLError, ConnectionError, EOFError, websockets.InvalidMessage)):  # TLS itself refuses
        await boot_status(f"{base}/CP3", client_context(pki, "rogue"), open_timeout=5)
    assert await boot_status(f"{base}/CP3", client_context(pki, "cp3")) == "Accepted"


async def test_profile_2_needs_its_password_even_with_a_certificate(tls_app: App, pki: Path) -> None:
    await add(tls_app, "CP3", profile=2, password="profile-two-secret!")  # CP3's certificate, registered for 2
    url = f"wss://127.0.0.1:{tls_app.ocpp.port}/ocpp/CP3"
    assert await refused_status(url, client_context(pki, "cp3")) == 401
    right = basic("CP3", "profile-two-secret!")
    assert await boot_status(url, client_context(pki, "cp3"), additional_headers=right) == "Accepted"


async def test_a_refused_tls_link_leaves_no_trace(tls_app: App, pki: Path) -> None:
    """Unknown chargers are accepted on this server, but not with another charger's certificate: refused at
    the handshake, the id is neither in the directory nor in the store (it used to enter the directory)."""
    url = f"wss://127.0.0.1:{tls_app.ocpp.port}/ocpp/CP-NEW"
    assert await refused_status(url, client_context(pki, "other")) == 403
    await asyncio.sleep(0.1)  # anything the server might have spawned for the link has run
    assert tls_app.directory.get("CP-NEW") is None
    assert await tls_app.store.get_charger("CP-NEW") is None
    assert len(tls_app.registry.links()) == 0


def test_cli_adds_a_charger_with_its_security_profile(tmp_path: Path) -> None:
    from tests.test_cli import cli, one_line_error

    env = {"CHARGEWISE_DATA_DIR": str(tmp_path / "data")}
    assert cli("chargers", "add", "CP3", "--security-profile", "3", env=env).returncode == 0
    one_line_error(cli("chargers", "add", "CP1", "--security-profile", "1", env=env), "needs a password")

    async def profiles() -> list[tuple[str, int | None]]:
        from chargewise.adapters.sql import open_store

        store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'chargewise.db'}")
        try:
            return [(c.id, c.security_profile) for c in await store.list_chargers()]
        finally:
            await store.close()

    assert asyncio.run(profiles()) == [("CP3", 3)]
