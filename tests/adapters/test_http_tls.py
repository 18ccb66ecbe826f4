"""The REST port over HTTPS (``serve --http-tls-cert/--http-tls-key``): a client trusting the CA gets the API,
plain HTTP and untrusting clients get nothing; the OCPP port is unaffected (plain ws:// here)."""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import websockets

from chargewise.bootstrap import App, TlsSettings, start
from tests.conftest import start_server


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA and a server certificate for 127.0.0.1 it signed."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=test-ca", cwd=d)  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
            "/CN=127.0.0.1", cwd=d)  # fmt: skip
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "server.pem", "-days", "2", "-extfile", "server.ext", cwd=d)  # fmt: skip
    return d


@pytest.fixture
async def https_app(tmp_path: Path, pki: Path) -> AsyncIterator[App]:
    plain = await start_server(tmp_path / "data")
    settings = replace(plain.app.settings, http_tls=TlsSettings(cert=pki / "server.pem", key=pki / "server.key"))
    await plain.app.stop()
    app = await start(settings)
    try:
        yield app
    finally:
        await app.stop()


async def test_the_rest_port_serves_https(https_app: App, pki: Path) -> None:
    assert https_app.http is not None
    port = https_app.http.port
    trusting = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer test-token"}) as http:
        async with http.get(f"https://127.0.0.1:{port}/api/v1/chargers", ssl=trusting) as r:
            assert r.status == 200 and await r.json() == []
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with http.get(f"https://127.0.0.1:{port}/healthz", ssl=ssl.create_default_context()):
                pass
        with pytest.raises(aiohttp.ClientError):  # plain HTTP on the TLS port: no answer
            async with http.get(f"http://127.0.0.1:{port}/healthz"):
                pass
    boot = json.dumps([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}])
    async with websockets.connect(f"ws://127.0.0.1:{https_app.ocpp.port}/ocpp/TLS-1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(boot)
        assert json.loads(await ws.recv())[2]["status"] == "Accepted"
