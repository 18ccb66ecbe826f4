"""Certificates and credential rotation with real simulated chargers over real TLS on loopback (issue 13,
point 4): a 2.0.1 charger gets a certificate for its own id through SignCertificate and comes back with
security profile 3; a CSR for another id is refused; a password rotation on both versions keeps the link and
leaves only the new password valid; a raise that the charger cannot complete is called off, old credentials
kept; bad input gets one line naming the field."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargewise.bootstrap import TlsSettings, start
from chargewise.domain.model import OcppVersion, Registration
from chargewise.security.authority import make_root, new_key
from chargewise.services.passwords import verify_password
from chargewise.simulator.runner import Runner
from tests.conftest import RunningServer, start_server
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import spec

V16, V201 = OcppVersion.V16, OcppVersion.V201
OLD, NEW = "old-password-0123456", "new-password-6543210"
SPEED = 20.0


def pem(obj: x509.Certificate | ec.EllipticCurvePrivateKey) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test CA (not the CSMS's) and a server certificate for 127.0.0.1 signed by it."""
    d = tmp_path_factory.mktemp("pki")
    now = datetime.now(UTC)
    ca_key = new_key()
    ca = make_root(ca_key, now, "test server CA")
    key = ec.generate_private_key(ec.SECP256R1())
    from ipaddress import ip_address

    server = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False)
              .sign(ca_key, hashes.SHA256()))  # fmt: skip
    (d / "ca.pem").write_bytes(pem(ca))
    (d / "server.pem").write_bytes(pem(server))
    (d / "server.key").write_bytes(pem(key))
    return d


@pytest.fixture
async def tls_server(tmp_path: Path, pki: Path) -> AsyncIterator[RunningServer]:
    """A server on wss:// only, its own CSMS CA made in the data directory and trusted for client certificates."""
    plain = await start_server(tmp_path / "data")
    await plain.app.stop()
    settings = replace(plain.app.settings, tls=TlsSettings(cert=pki / "server.pem", key=pki / "server.key"))
    app = await start(settings)
    assert app.http is not None
    running = RunningServer(app=app, ocpp_url=f"wss://127.0.0.1:{app.ocpp.port}/ocpp",
                            http_url=f"http://127.0.0.1:{app.http.port}", admin_token=app.admin_token)  # fmt: skip
    try:
        yield running
    finally:
        await app.stop()


def client_context(pki: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki / "ca.pem"))


async def add(server: RunningServer, charger_id: str, password: str = OLD) -> None:
    await server.app.admin.add(charger_id, registration=Registration.ACCEPTED, password=password, security_profile=1)


def runner_for(server: RunningServer, pki: Path, charger_id: str, version: OcppVersion,
               password: str = OLD) -> Runner:  # fmt: skip
    now = time.time()
    charger = dataclasses.replace(spec(charger_id, version, ev_at=None, start=now), password=password)
    return Runner([charger], url=server.ocpp_url, speed=SPEED, start=now, ssl_context=client_context(pki))


async def rest(server: RunningServer, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession(headers=server.headers) as http, http.request(
            method, server.http_url + path, json=body) as r:  # fmt: skip
        return r.status, await r.json()


async def boot_with(server: RunningServer, pki: Path, charger_id: str, password: str | None) -> int | str:
    """Open a link as ``charger_id`` with ``password`` (none: no Basic auth): the boot status, or the HTTP
    status the handshake was refused with."""
    headers = {}
    if password is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{charger_id}:{password}".encode()).decode()
    boot = json.dumps([2, "b", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"}])
    try:
        async with websockets.connect(f"{server.ocpp_url}/{charger_id}", subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                                      ssl=client_context(pki), additional_headers=headers) as ws:  # fmt: skip
            await ws.send(boot)
            return str(json.loads(await asyncio.wait_for(ws.recv(), 5))[2]["status"])
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


async def test_a_201_charger_gets_its_own_certificate_and_comes_back_with_profile_3(
    tls_server: RunningServer, pki: Path
) -> None:
    await add(tls_server, "CERT201")
    runner = runner_for(tls_server, pki, "CERT201", V201)
    await runner.start()
    try:
        fw = runner.drivers[0].fw
        await until(lambda: "CERT201" in tls_server.app.registry and fw.accepted, 15)
        status, answer = await rest(tls_server, "POST", "/api/v1/chargers/CERT201/certificates/renew")
        assert (status, answer["status"]) == (200, "Accepted")
        signings = tls_server.app.certificates.signings  # type: ignore[union-attr]
        await until(lambda: fw.credentials.chain_pem is not None and signings.get("CERT201"), 10)
        [signing] = signings["CERT201"]  # SignCertificate -> CertificateSigned, answered Accepted
        assert signing.accepted and signing.delivered == "Accepted"
        leaf = x509.load_pem_x509_certificates(fw.credentials.chain_pem.encode())[0]  # type: ignore[union-attr]
        assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CERT201"
        ca = x509.load_pem_x509_certificate((tls_server.app.settings.data_dir / "ca" / "ca.pem").read_bytes())
        leaf.verify_directly_issued_by(ca)  # signed by the CSMS CA made in <data_dir>/ca
        body = {"profile": 3, "csms_url": tls_server.ocpp_url, "deadline_s": 30}
        status, result = await rest(tls_server, "POST", "/api/v1/chargers/CERT201/security-profile", body)
        assert status == 200 and result["done"] and result["status"] == "Reconnected", result
        charger = await tls_server.app.store.get_charger("CERT201")
        assert charger is not None and (charger.security_profile, charger.pending_security_profile) == (3, None)
        assert fw.credentials.security_profile == 3 and "CERT201" in tls_server.app.registry
        assert fw.stats["connect_failures"] == 0  # straight back with the certificate, no fallback needed
    finally:
        await runner.stop()
    assert runner.errors() == []
    assert await boot_with(tls_server, pki, "CERT201", OLD) == 403  # profile 3 now: a password is not enough


@pytest.mark.parametrize("version", [V16, V201], ids=["1.6", "2.0.1"])
async def test_a_csr_for_another_id_is_refused_and_a_good_one_is_signed_after_the_answer(
    tls_server: RunningServer, pki: Path, version: OcppVersion
) -> None:
    """An outside peer (raw frames) sends SignCertificate: another CN, garbage, then its own."""
    subprotocol = version.subprotocol
    boot = ({"chargePointVendor": "Acme", "chargePointModel": "X"} if version is V16 else
            {"chargingStation": {"vendorName": "Acme", "model": "X"}, "reason": "PowerUp"})  # fmt: skip

    def csr(name: str) -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256()) \
            .public_bytes(serialization.Encoding.PEM).decode()  # fmt: skip

    async with websockets.connect(f"{tls_server.ocpp_url}/PEER", subprotocols=[subprotocol],  # type: ignore[list-item]
                                  ssl=client_context(pki)) as ws:  # fmt: skip
        await ws.send(json.dumps([2, "1", "BootNotification", boot]))
        assert json.loads(await ws.recv())[2]["status"] == "Accepted"
        for n, request in enumerate([csr("OTHER"), "-----BEGIN CERTIFICATE REQUEST-----\nnope\n", csr("PEER")]):
            await ws.send(json.dumps([2, f"s{n}", "SignCertificate", {"csr": request}]))
            answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert answer[:2] == [3, f"s{n}"], answer
            if n < 2:
                assert answer[2]["status"] == "Rejected"
                if version is V201:
                    assert answer[2]["statusInfo"]["reasonCode"] == "InvalidCSR"
                    assert ("OTHER" if n == 0 else "PEM") in answer[2]["statusInfo"]["additionalInfo"]
            else:
                assert answer[2] == {"status": "Accepted"}
        signed = json.loads(await asyncio.wait_for(ws.recv(), 5))  # CertificateSigned, after the answer
        assert signed[0] == 2 and signed[2] == "CertificateSigned"
        await ws.send(json.dumps([3, signed[1], {"status": "Accepted"}]))
        leaf = x509.load_pem_x509_certificates(signed[3]["certificateChain"].encode())[0]
        assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "PEER"
        assert (signed[3].get("certificateType") == "ChargingStationCertificate") is (version is V201)
        with pytest.raises(TimeoutError):  # nothing was signed for the refused CSRs
            await asyncio.wait_for(ws.recv(), 0.5)
    signings = tls_server.app.certificates.signings["PEER"]  # type: ignore[union-attr]
    assert [s.accepted for s in signings] == [False, False, True]  # the last: signed and delivered
    assert signings[-1].delivered == "Accepted"


@pytest.mark.parametrize("version", [V16, V201], ids=["1.6", "2.0.1"])
async def test_a_password_rotation_keeps_the_link_and_leaves_only_the_new_password(
    tls_server: RunningServer, pki: Path, version: OcppVersion
) -> None:
    cid = f"ROT{version.value.replace('.', '')}"
    await add(tls_server, cid)
    runner = runner_for(tls_server, pki, cid, version)
    await runner.start()
    try:
        fw = runner.drivers[0].fw
        await until(lambda: cid in tls_server.app.registry and fw.accepted, 15)
        link = tls_server.app.registry.get(cid)
        status, result = await rest(tls_server, "POST", f"/api/v1/chargers/{cid}/password-rotation", {"password": NEW})
        assert status == 200 and result["done"] and result["status"] == "Accepted", result
        charger = await tls_server.app.store.get_charger(cid)
        assert charger is not None and charger.password_hash and charger.previous_password_hash
        assert verify_password(NEW, charger.password_hash) and verify_password(OLD, charger.previous_password_hash)
        assert NEW not in charger.password_hash  # hashed the moment the charger took it
        assert fw.credentials.password == NEW
        if version is V201:  # it keeps its link and uses the new password from its next connection
            assert tls_server.app.registry.get(cid) is link and fw.stats["disconnects"] == 0
            await tls_server.app.registry.call(cid, "Reset", {"type": "Immediate"})
        # (1.6 reconnects with the new password at once, as the whitepaper has it: TC_073_CS)
        await until(lambda: (c := tls_server.app.directory.get(cid)) is not None and c.previous_password_hash is None
                    and cid in tls_server.app.registry and fw.accepted, 20)  # fmt: skip
        assert fw.stats["connect_failures"] == 0 and fw.stats["disconnects"] == 1  # never refused on the way
    finally:
        await runner.stop()
    assert runner.errors() == []
    charger = await tls_server.app.store.get_charger(cid)
    assert charger is not None and charger.previous_password_hash is None
    assert await boot_with(tls_server, pki, cid, OLD) == 401
    assert await boot_with(tls_server, pki, cid, NEW) == "Accepted"


async def test_a_raise_the_charger_cannot_complete_is_called_off_and_the_old_credentials_stay(
    tls_server: RunningServer, pki: Path
) -> None:
    """Its certificate is not one the CSMS trusts: profile 3 fails at TLS, it falls back to its old network
    profile (password), and the raise is called off at the deadline."""
    await add(tls_server, "FALL201")
    runner = runner_for(tls_server, pki, "FALL201", V201)
    await runner.start()
    try:
        fw = runner.drivers[0].fw
        await until(lambda: "FALL201" in tls_server.app.registry and fw.accepted, 15)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FALL201")])
        now = datetime.now(UTC)
        rogue = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                 .serial_number(1).not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
                 .sign(key, hashes.SHA256()))  # fmt: skip
        fw.credentials.key, fw.credentials.chain_pem = key, pem(rogue).decode()
        body = {"profile": 3, "csms_url": tls_server.ocpp_url, "deadline_s": 4}
        status, result = await rest(tls_server, "POST", "/api/v1/chargers/FALL201/security-profile", body)
        assert status == 200 and not result["done"] and result["status"] == "NotReconnected", result
        assert "keeps profile 1" in result["detail"]
        charger = await tls_server.app.store.get_charger("FALL201")
        assert charger is not None and (charger.security_profile, charger.pending_security_profile) == (1, None)
        await until(lambda: "FALL201" in tls_server.app.registry and fw.accepted, 20)  # back with its password
        assert fw.failures["tls"] >= 3 and fw.credentials.plan().slot == 0  # its old network profile
        assert any("falling back to network profile 0" in line for line in fw.log)
    finally:
        await runner.stop()
    assert runner.errors() == []


async def test_a_16_charger_is_raised_to_profile_2(tls_server: RunningServer, pki: Path) -> None:
    await add(tls_server, "UP16")
    runner = runner_for(tls_server, pki, "UP16", V16)
    await runner.start()
    try:
        fw = runner.drivers[0].fw
        await until(lambda: "UP16" in tls_server.app.registry and fw.accepted, 15)
        status, result = await rest(tls_server, "POST", "/api/v1/chargers/UP16/security-profile",
                                    {"profile": 2, "deadline_s": 30})  # fmt: skip
        assert status == 200 and result["done"], result
        charger = await tls_server.app.store.get_charger("UP16")
        assert charger is not None and charger.security_profile == 2
        assert fw.credentials.security_profile == 2
    finally:
        await runner.stop()
    assert runner.errors() == []


async def test_certificates_are_installed_listed_and_deleted(tls_server: RunningServer, pki: Path) -> None:
    await add(tls_server, "ROOTS")
    runner = runner_for(tls_server, pki, "ROOTS", V201)
    await runner.start()
    try:
        await until(lambda: "ROOTS" in tls_server.app.registry and runner.drivers[0].fw.accepted, 15)
        base = "/api/v1/chargers/ROOTS/certificates"
        assert (await rest(tls_server, "POST", base, {"type": "csms-root"}))[1]["status"] == "Accepted"  # our CA
        manufacturer = (pki / "ca.pem").read_text()
        body = {"type": "manufacturer-root", "certificate": manufacturer}
        assert (await rest(tls_server, "POST", base, body))[1]["status"] == "Accepted"
        status, found = await rest(tls_server, "GET", base)
        assert status == 200 and sorted(f["type"] for f in found) == ["csms-root", "manufacturer-root"]
        ours = x509.load_pem_x509_certificate((tls_server.app.settings.data_dir / "ca" / "ca.pem").read_bytes())
        serial = format(ours.serial_number, "x")
        assert serial in [f["serial_number"] for f in found]
        assert (await rest(tls_server, "DELETE", f"{base}/{serial}"))[1]["status"] == "Accepted"
        status, found = await rest(tls_server, "GET", f"{base}?type=csms-root")
        assert (status, found) == (200, [])
    finally:
        await runner.stop()


async def test_bad_input_gets_one_line_naming_the_field(tls_server: RunningServer, pki: Path) -> None:
    await add(tls_server, "BAD")
    runner = runner_for(tls_server, pki, "BAD", V16)
    await runner.start()
    try:
        await until(lambda: "BAD" in tls_server.app.registry and runner.drivers[0].fw.accepted, 15)
        cases = [
            (
                "POST",
                "/api/v1/chargers/BAD/certificates",
                {"type": "csms-root", "certificate": "not a PEM"},
                422,
                "certificate",
            ),
            ("POST", "/api/v1/chargers/BAD/certificates", {"type": "v2g-root", "certificate": None}, 422, "v2g-root"),
            ("POST", "/api/v1/chargers/NOPE/password-rotation", {}, 404, "NOPE"),
            ("POST", "/api/v1/chargers/BAD/password-rotation", {"password": "short"}, 422, "16 to 40"),
            ("POST", "/api/v1/chargers/BAD/security-profile", {"profile": 5}, 422, "profile 5"),
            ("GET", "/api/v1/chargers/BAD/certificates?type=nonsense", None, 400, "nonsense"),
            ("DELETE", "/api/v1/chargers/BAD/certificates/abc", None, 404, "abc"),
        ]
        for method, path, body, expected, named in cases:
            status, problem = await rest(tls_server, method, path, body)
            assert status == expected, (path, problem)
            assert named in problem["error"] and problem["fix"] and "\n" not in problem["error"], problem
        status, problem = await rest(tls_server, "POST", "/api/v1/chargers/GONE/certificates/renew")
        assert status == 409 and "not connected" in problem["error"]
    finally:
        await runner.stop()
