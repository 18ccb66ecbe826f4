"""What the probe tests stand up on loopback: a test CA with good and broken server certificates (made with
``cryptography``), a tiny DNS server (dnspython) that answers what it is told, and a WebSocket endpoint that
upgrades with a chosen subprotocol (or none)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


# ---------------------------------------------------------------------- PKI
@dataclass(frozen=True)
class Pki:
    ca: Path  # the test CA's certificate (PEM): what --ca trusts
    good: tuple[Path, Path]  # (chain, key) for 127.0.0.1 and csms.test, valid now
    expired: tuple[Path, Path]  # the same names, validity ended yesterday


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))  # fmt: skip


def make_pki(directory: Path, now: datetime | None = None) -> Pki:
    """A CA valid for a day either side of ``now``, a good server certificate and an expired one."""
    now = now or datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(_name("chargewise probe test CA")).issuer_name(_name("chargewise probe test CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def server(name: str, not_before: datetime, not_after: datetime) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder().subject_name(_name("csms.test")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("csms.test"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        chain, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key_path, key)
        return chain, key_path

    good = server("good", now - timedelta(days=1), now + timedelta(days=20))
    expired = server("expired", now - timedelta(days=10), now - timedelta(days=1))
    return Pki(ca=directory / "ca.pem", good=good, expired=expired)


# ---------------------------------------------------------------------- DNS
class DnsServer(asyncio.DatagramProtocol):
    """Answers A queries from ``records`` (name → IPv4), NXDOMAIN for other names, nothing for AAAA."""

    def __init__(self, records: dict[str, str]) -> None:
        self.records = {name.rstrip(".").lower(): address for name, address in records.items()}
        self.transport: asyncio.DatagramTransport | None = None
        self.queries: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # selector transports do not subclass it

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        self.queries.append(f"{name} {dns.rdatatype.to_text(question.rdtype)}")
        if name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", self.records[name]))
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


async def start_dns(records: dict[str, str]) -> tuple[asyncio.DatagramTransport, DnsServer, int]:
    """A DNS server on a free UDP port of 127.0.0.1; close the transport when done."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: DnsServer(records), local_addr=("127.0.0.1", 0))
    return transport, protocol, transport.get_extra_info("sockname")[1]


# ---------------------------------------------------------------------- a WebSocket endpoint with a chosen subprotocol
async def start_upgrader(answered: str | None) -> tuple[asyncio.Server, int]:
    """Upgrades every request to a WebSocket and answers ``Sec-WebSocket-Protocol: answered`` (None: no header),
    then says nothing: what an HTTP server that is not (this version's) CSMS does."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(line.split(":", 1)[1].strip() for line in head.decode().split("\r\n")
                   if line.lower().startswith("sec-websocket-key:"))  # fmt: skip
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Accept: {accept}"] + ([f"Sec-WebSocket-Protocol: {answered}"] if answered else [])  # fmt: skip
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        await reader.read()  # hold the link until the probe leaves
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]
