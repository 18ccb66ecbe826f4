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
    """A CA, a server certificate for 127.0.0.1 and client certificates for CP3 and OTHER."""
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


async def test_profile_3_certificate_must_name_the_charger(tls_app: App, pki: Path) -> None:
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
