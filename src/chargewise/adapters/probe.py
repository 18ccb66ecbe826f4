"""The charger's-eye probe, network part: do what a charger does, step by step, and record what each step saw.

Each step fills one observation of ``chargewise.doctor.probe`` and hands it to its pure verdict; the first
failing step ends the run (a charger gets no further either). DNS is asked with dnspython so the answering
server is known (the system resolver would hide it, and reads /etc/hosts, which a charger does not have);
the WebSocket is websockets' sans-I/O client pumped over the same TCP/TLS connection, so every step is timed
on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
from cryptography import x509
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.headers import build_authorization_basic
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from chargewise.doctor.probe import (
    STEPS,
    BootAnswer,
    Certificate,
    DnsAnswer,
    Report,
    Status,
    Step,
    Target,
    TcpAttempt,
    TlsHandshake,
    Upgrade,
    skipped,
)
from chargewise.doctor.probe_steps import explain_boot, explain_dns, explain_tcp, explain_upgrade
from chargewise.doctor.probe_tls import explain_tls

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
RESOLV_CONF = "/etc/resolv.conf"
BOOT_PAYLOADS: dict[str, dict[str, Any]] = {  # the smallest valid BootNotification of each version
    "1.6": {"chargePointVendor": "chargewise", "chargePointModel": "doctor-probe"},
    "2.0.1": {"reason": "PowerUp", "chargingStation": {"vendorName": "chargewise", "model": "doctor-probe"}},
}


@dataclass(frozen=True, kw_only=True)
class ProbeOptions:
    target: Target
    version: str = "1.6"  # "1.6" or "2.0.1"
    password: str | None = None
    dns_server: tuple[str, int] | None = None  # None: the system's resolvers (/etc/resolv.conf)
    ca_file: Path | None = None  # None: the system's CA store
    timeout: float = 5.0  # per step
    charger_time: datetime | None = None


@dataclass
class Link:
    """The connection the steps build up (TCP, then TLS on it), closed at the end."""

    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    addresses: tuple[str, ...] = ()  # what DNS answered, tried in order
    address: str = ""  # the one connected to
    protocol: ClientProtocol | None = None  # the WebSocket, once the upgrade request is sent


async def run_probe(options: ProbeOptions) -> Report:
    """Run every step in order, stop at the first that fails, and return the report (the caller prints it)."""
    steps: list[Step] = []
    link = Link()
    stages: list[Callable[[], Awaitable[Step]]] = [
        lambda: _dns(options, link),
        lambda: _tcp(options, link),
        lambda: _tls(options, link),
        lambda: _websocket(options, link),
        lambda: _boot(options, link),
    ]
    try:
        for name, stage in zip(STEPS, stages, strict=True):
            failed = next((s for s in steps if s.status is Status.FAIL), None)
            steps.append(skipped(name, failed) if failed else await stage())
    finally:
        if link.writer is not None:
            link.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link.writer.wait_closed(), 1)
    return Report(target=options.target, version=options.version, steps=tuple(steps))


# ---------------------------------------------------------------------- DNS
async def _dns(options: ProbeOptions, link: Link) -> Step:
    answer = await resolve(options.target.host, server=options.dns_server, wait=options.timeout)
    link.addresses = answer.addresses
    return explain_dns(answer)


async def resolve(host: str, *, server: tuple[str, int] | None, wait: float) -> DnsAnswer:
    """Ask ``server`` (or each resolver of /etc/resolv.conf in turn) for the A and AAAA records of ``host``."""
    with contextlib.suppress(ValueError):
        return DnsAnswer(host=host, rcode="LITERAL", addresses=(ipaddress.ip_address(host).compressed,))
    if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):  # RFC 6761 §6.3
        return DnsAnswer(
            host=host, rcode="NOERROR", source="RFC 6761: localhost is this machine", addresses=("127.0.0.1",)
        )
    if server is not None:
        servers, source = [server], "--dns-server"
    else:
        try:
            servers = [(str(ns), 53) for ns in dns.resolver.Resolver(filename=RESOLV_CONF).nameservers]
        except (dns.resolver.NoResolverConfiguration, OSError) as exc:
            return DnsAnswer(host=host, rcode="ERROR", source=RESOLV_CONF, error=f"no resolver configured ({exc})")
        source = RESOLV_CONF
    started = time.monotonic()
    last = DnsAnswer(host=host, rcode="TIMEOUT", source=source, error="no resolver")
    for address, port in servers:
        last = await _ask(host, address, port, wait=wait, source=source)
        if last.rcode != "TIMEOUT":
            break  # a resolver that answers is the one a charger keeps using
    return replace(last, elapsed_s=time.monotonic() - started)


async def _ask(host: str, address: str, port: int, *, wait: float, source: str) -> DnsAnswer:
    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    found: list[str] = []
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        query = dns.message.make_query(host, rdtype)
        try:
            response = await dns.asyncquery.udp(query, address, timeout=wait, port=port)
            if response.flags & dns.flags.TC:  # truncated: ask again over TCP, as resolvers do
                response = await dns.asyncquery.tcp(query, address, timeout=wait, port=port)
        except dns.exception.Timeout:
            return DnsAnswer(host=host, rcode="TIMEOUT", server=where, source=source, error=f"{wait:g} s")
        except (OSError, dns.exception.DNSException) as exc:
            return DnsAnswer(
                host=host, rcode="ERROR", server=where, source=source, error=str(exc) or type(exc).__name__
            )
        rcode = dns.rcode.to_text(response.rcode())
        if rcode != "NOERROR":
            return DnsAnswer(host=host, rcode=rcode, server=where, source=source)
        found += [item.to_text() for rrset in response.answer if rrset.rdtype == rdtype for item in rrset]
    return DnsAnswer(host=host, rcode="NOERROR", server=where, source=source, addresses=tuple(found))


# ---------------------------------------------------------------------- TCP
async def _tcp(options: ProbeOptions, link: Link) -> Step:
    attempts: list[TcpAttempt] = []
    for address in link.addresses:
        attempt, streams = await _connect(address, options.target.port, options.timeout)
        attempts.append(attempt)
        if streams is not None:
            link.reader, link.writer = streams
            link.address = address
            break
    return explain_tcp(tuple(attempts), options.target)


async def _connect(address: str, port: int, wait: float) -> tuple[TcpAttempt, Streams | None]:
    started = time.monotonic()

    def attempt(outcome: str, error: str = "") -> TcpAttempt:
        return TcpAttempt(
            address=address, port=port, outcome=outcome, elapsed_s=time.monotonic() - started, error=error
        )

    try:
        streams = await asyncio.wait_for(asyncio.open_connection(address, port), wait)
    except ConnectionRefusedError:
        return attempt("refused"), None
    except TimeoutError:
        return attempt("timeout", f"{wait:g} s"), None
    except OSError as exc:
        return attempt("unreachable", exc.strerror or str(exc)), None
    return attempt("connected"), streams


# ---------------------------------------------------------------------- TLS
async def _tls(options: ProbeOptions, link: Link) -> Step:
    handshake = await _handshake(link, options) if options.target.secure else None
    return explain_tls(
        handshake,
        options.target,
        now=datetime.now(UTC),
        charger_time=options.charger_time,
        password_given=options.password is not None,
    )


async def _handshake(link: Link, options: ProbeOptions) -> TlsHandshake:
    assert link.writer is not None
    trust = f"--ca {options.ca_file}" if options.ca_file else "the system CAs"
    context = ssl.create_default_context(cafile=str(options.ca_file) if options.ca_file else None)
    started = time.monotonic()
    try:
        await link.writer.start_tls(context, server_hostname=options.target.host, ssl_handshake_timeout=options.timeout)
    except ssl.SSLCertVerificationError as exc:  # the check failed: read the certificate without checking
        elapsed = time.monotonic() - started
        link.writer = None
        cert = await _unverified_certificate(link.address, options)
        return TlsHandshake(
            trust=trust,
            verify_code=exc.verify_code,
            verify_message=exc.verify_message or str(exc),
            certificate=cert,
            elapsed_s=elapsed,
        )
    except (ssl.SSLError, OSError, TimeoutError) as exc:
        link.writer = None
        return TlsHandshake(trust=trust, error=_describe(exc), elapsed_s=time.monotonic() - started)
    ssl_object: ssl.SSLObject = link.writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    return TlsHandshake(
        trust=trust,
        verified=True,
        version=ssl_object.version(),
        cipher=cipher[0] if cipher else None,
        certificate=certificate(der) if der else None,
        elapsed_s=time.monotonic() - started,
    )


async def _unverified_certificate(address: str, options: ProbeOptions) -> Certificate | None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address, options.target.port, ssl=context, server_hostname=options.target.host),
            options.timeout,
        )
    except (OSError, ssl.SSLError, TimeoutError):
        return None
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 1)
    return certificate(der) if der else None


def certificate(der: bytes) -> Certificate:
    """The fields of a DER certificate that a person checks: names, issuer and validity window."""
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns_names, ips = (), ()
    return Certificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        dns_names=dns_names,
        ip_addresses=ips,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    return str(exc) or type(exc).__name__


# ---------------------------------------------------------------------- WebSocket upgrade and BootNotification
async def _websocket(options: ProbeOptions, link: Link) -> Step:
    target, offered = options.target, f"ocpp{options.version}"
    started = time.monotonic()
    assert link.reader is not None and link.writer is not None
    protocol = ClientProtocol(parse_uri(target.url), subprotocols=[Subprotocol(offered)])
    request = protocol.connect()
    if options.password is not None:
        request.headers["Authorization"] = build_authorization_basic(target.charger_id, options.password)
    protocol.send_request(request)
    link.protocol = protocol
    try:
        response = await asyncio.wait_for(_response(protocol, link), options.timeout)
    except (TimeoutError, OSError) as exc:
        upgrade = Upgrade(offered=offered, error=_describe(exc), elapsed_s=time.monotonic() - started)
        return explain_upgrade(upgrade, target, password_given=options.password is not None)
    body = response.body.decode("utf-8", "replace").strip().splitlines() if response.body else []
    upgrade = Upgrade(
        offered=offered,
        status=response.status_code,
        answered=response.headers.get("Sec-WebSocket-Protocol"),
        reason=body[0][:200] if body else "",
        retry_after=response.headers.get("Retry-After"),
        elapsed_s=time.monotonic() - started,
    )
    return explain_upgrade(upgrade, target, password_given=options.password is not None)


async def _response(protocol: ClientProtocol, link: Link) -> Response:
    while True:
        await _flush(protocol, link)
        for event in protocol.events_received():
            if isinstance(event, Response):
                return event
        if not await _feed(protocol, link):
            raise ConnectionError("the server closed the connection without answering")


async def _boot(options: ProbeOptions, link: Link) -> Step:
    protocol = link.protocol
    assert protocol is not None
    started = time.monotonic()
    message_id = f"probe-{int(time.time() * 1000)}"
    protocol.send_text(json.dumps([2, message_id, "BootNotification", BOOT_PAYLOADS[options.version]]).encode())
    try:
        answer = await asyncio.wait_for(_answer(protocol, link, message_id), options.timeout)
    except (TimeoutError, OSError) as exc:
        answer = BootAnswer(error=_describe(exc))
    answer = replace(answer, elapsed_s=time.monotonic() - started)
    with contextlib.suppress(Exception):
        protocol.send_close(1000)
        await _flush(protocol, link)
    return explain_boot(answer, options.target, now=datetime.now(UTC))


async def _answer(protocol: ClientProtocol, link: Link, message_id: str) -> BootAnswer:
    while True:
        await _flush(protocol, link)
        for event in protocol.events_received():
            if not isinstance(event, Frame):
                continue
            if event.opcode is Opcode.CLOSE:
                code = protocol.close_rcvd.code if protocol.close_rcvd else None
                return BootAnswer(close_code=code or 1005)
            if event.opcode is Opcode.TEXT:
                answer = _parse_answer(bytes(event.data), message_id)
                if answer is not None:
                    return answer
        if protocol.close_rcvd is None and not await _feed(protocol, link):
            return BootAnswer(close_code=1006, error="the server closed the connection")


def _parse_answer(data: bytes, message_id: str) -> BootAnswer | None:
    """Our call's CallResult or CallError; None for anything else (the server may send its own calls)."""
    try:
        frame = json.loads(data)
    except ValueError:
        return BootAnswer(error="the answer is not JSON")
    if not isinstance(frame, list) or len(frame) < 3 or frame[1] != message_id:
        return None
    if frame[0] == 4:
        return BootAnswer(call_error=f"{frame[2]}: {frame[3] if len(frame) > 3 else ''}")
    payload = frame[2] if isinstance(frame[2], dict) else {}
    when = payload.get("currentTime")
    try:
        current = datetime.fromisoformat(str(when).replace("Z", "+00:00")) if when else None
    except ValueError:
        current = None
    interval = payload.get("interval")
    return BootAnswer(
        status=str(payload.get("status")),
        interval=interval if isinstance(interval, int) else None,
        current_time=current,
    )


# ---------------------------------------------------------------------- pumping
async def _flush(protocol: ClientProtocol, link: Link) -> None:
    assert link.writer is not None
    data = protocol.data_to_send()
    if data:
        link.writer.write(b"".join(data))
        await link.writer.drain()


async def _feed(protocol: ClientProtocol, link: Link) -> bool:
    """Read once from the link into the protocol; False at end of stream."""
    assert link.reader is not None
    data = await link.reader.read(65536)
    if data:
        protocol.receive_data(data)
        return True
    protocol.receive_eof()
    return False
