"""The charger's-eye probe, pure part: what each step of a charger's connection observed, in; a verdict with
its explanation and fix, out.

A charger reaching its CSMS does five things in order: resolve the host name (DNS), open TCP, negotiate TLS
(``wss://`` only), upgrade to a WebSocket with the OCPP subprotocol, send a BootNotification. The adapter
(``chargewise.adapters.probe``) does them over the network and fills one observation per step
(:class:`DnsAnswer`, :class:`TcpAttempt`, :class:`TlsHandshake`, :class:`Upgrade`, :class:`BootAnswer`);
``chargewise.doctor.probe_steps`` turns each into a :class:`Step`. Nothing here does I/O or reads a clock:
the local time comes in as data.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from chargewise.doctor.findings import Cause

DEFAULT_PORTS = {"ws": 80, "wss": 443}  # RFC 6455 §3: a URL without a port means 80 / 443
STEPS = ("dns", "tcp", "tls", "websocket", "boot")


class ProbeInputError(ValueError):
    """A probe argument a person typed wrong; the message names the field and the fix (one line)."""


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"  # works here, but a charger may still fail (the explanation says when)
    FAIL = "fail"  # a charger stops here; later steps are skipped
    SKIPPED = "skipped"


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """A charger's CSMS URL, parsed: ``ws(s)://HOST[:PORT]/PATH/CHARGER_ID``."""

    url: str
    secure: bool
    host: str
    port: int
    port_given: bool
    resource: str  # path and query, as sent in the upgrade request
    charger_id: str  # the last path segment: the identity, also the Basic-auth user name

    @property
    def address_literal(self) -> bool:
        """True when the URL names an IP address: no DNS lookup, and a TLS certificate needs an IP SAN."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def parse_target(url: str) -> Target:
    """Parse the URL a charger is configured with; raise :class:`ProbeInputError` saying how to write it."""
    example = "e.g. ws://csms.example.com:9000/ocpp/CP-1"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ProbeInputError(f"URL {url!r} is malformed ({exc}); {example}") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        raise ProbeInputError(f"URL scheme {scheme}:// is not a charger's; use ws:// or wss:// ({example})")
    if scheme not in DEFAULT_PORTS:
        raise ProbeInputError(f"URL {url!r} must start with ws:// or wss:// ({example})")
    host = parts.hostname or ""
    if not host:
        raise ProbeInputError(f"URL {url!r} names no host; {example}")
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise ProbeInputError(f"URL {url!r} must end with the charger's id; {example}")
    resource = parts.path + (f"?{parts.query}" if parts.query else "")
    return Target(
        url=url.strip(),
        secure=scheme == "wss",
        host=host,
        port=port or DEFAULT_PORTS[scheme],
        port_given=port is not None,
        resource=resource,
        charger_id=unquote(segments[-1]),
    )


def parse_server(text: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT`` or ``[IPv6]:PORT`` of a DNS server (port 53 when not given)."""
    host, port = text.strip(), "53"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif host.count(":") == 1:
        host, port = host.split(":")
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise ProbeInputError(
            f"--dns-server {text!r} must be an IP address with an optional port, e.g. 192.168.1.1 or 127.0.0.1:5353"
        ) from None
    if not 0 < number < 65536:
        raise ProbeInputError(f"--dns-server port {number} out of range 1-65535")
    return host, number


# ---------------------------------------------------------------------- observations (the adapter fills them)
@dataclass(frozen=True, kw_only=True, slots=True)
class DnsAnswer:
    host: str
    rcode: str  # "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", ...; "TIMEOUT"; "LITERAL" (no lookup needed)
    server: str | None = None  # "10.0.0.1:53": the server that answered (or the last one asked)
    source: str = ""  # where the server came from: "/etc/resolv.conf", "--dns-server"
    addresses: tuple[str, ...] = ()
    elapsed_s: float = 0.0
    error: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class TcpAttempt:
    address: str
    port: int
    outcome: str  # "connected", "refused", "timeout", "unreachable", "error"
    elapsed_s: float = 0.0
    error: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Certificate:
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


@dataclass(frozen=True, kw_only=True, slots=True)
class TlsHandshake:
    trust: str  # what the chain was checked against: "the system CAs" or "--ca FILE"
    verified: bool = False
    version: str | None = None  # "TLSv1.3"
    cipher: str | None = None
    verify_code: int | None = None  # OpenSSL X509_V_ERR_* (10 expired, 20 unknown issuer, 62 hostname)
    verify_message: str = ""
    certificate: Certificate | None = None  # the server's leaf (read without verifying when the check failed)
    elapsed_s: float = 0.0
    error: str = ""  # a handshake failure that is not the certificate check (no TLS on the port, timeout, ...)


@dataclass(frozen=True, kw_only=True, slots=True)
class Upgrade:
    offered: str  # "ocpp1.6"
    status: int | None = None  # HTTP status; None when no response came
    answered: str | None = None  # the server's Sec-WebSocket-Protocol, None when absent
    reason: str = ""  # the response body's first line (our server says why it refused)
    retry_after: str | None = None
    elapsed_s: float = 0.0
    error: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class BootAnswer:
    status: str | None = None  # "Accepted", "Pending", "Rejected"
    interval: int | None = None
    current_time: datetime | None = None  # the server's clock, from the answer
    call_error: str | None = None  # "FormationViolation: ..." when the server answered a CallError
    close_code: int | None = None  # the server closed the link instead of answering
    elapsed_s: float = 0.0
    error: str = ""  # "timeout", "not JSON", ...


# ---------------------------------------------------------------------- verdicts
@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    name: str  # one of STEPS
    status: Status
    summary: str  # one line
    elapsed_s: float | None = None
    problem: str | None = None  # stable code of what went wrong ("dns_sinkhole", "tls_expired", ...)
    explanation: str = ""
    fix: str = ""
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    target: Target
    version: str  # "1.6" or "2.0.1"
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """No step failed (warnings allowed): a charger configured with this URL should connect."""
        return all(step.status is not Status.FAIL for step in self.steps)

    @property
    def failed(self) -> Step | None:
        return next((step for step in self.steps if step.status is Status.FAIL), None)

    @property
    def cause(self) -> Cause | None:
        """The failure in the doctor's root-cause vocabulary, where it has a word for it (DNS, TLS)."""
        failed = self.failed
        if failed is None:
            return None
        return {"dns": Cause.DNS, "tls": Cause.TLS}.get(failed.name)


def skipped(name: str, after: Step) -> Step:
    return Step(name=name, status=Status.SKIPPED, summary=f"not tried: the {after.name} step failed")


def to_json(report: Report) -> dict[str, object]:
    """The report as JSON-ready values (``doctor probe --json``)."""
    return {
        "url": report.target.url,
        "charger_id": report.target.charger_id,
        "ocpp": report.version,
        "ok": report.ok,
        "cause": report.cause.value if report.cause else None,
        "problem": report.failed.problem if report.failed else None,
        "steps": [
            {
                "step": s.name,
                "status": s.status.value,
                "summary": s.summary,
                "elapsed_ms": None if s.elapsed_s is None else round(s.elapsed_s * 1000, 1),
                "problem": s.problem,
                "explanation": s.explanation,
                "fix": s.fix,
                "details": dict(s.details),
            }
            for s in report.steps
        ],
    }


def describe_span(delta: timedelta) -> str:
    """``3 days``, ``5 hours``, ``12 min`` or ``40 s``: a clock offset or a certificate's age, for people."""
    seconds = int(abs(delta.total_seconds()))
    if seconds >= 2 * 86_400:
        return f"{seconds // 86_400} days"
    if seconds >= 7200:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"
