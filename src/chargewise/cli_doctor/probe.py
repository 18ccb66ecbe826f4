"""``chargewise doctor probe URL``: connect as the charger would, step by step, and explain the first failure."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from chargewise.cli_support import UsageError, print_json
from chargewise.doctor.probe import ProbeInputError, Report, Status, parse_server, parse_target, to_json

if TYPE_CHECKING:  # the adapter (dnspython, cryptography, websockets) loads only when the probe runs
    from chargewise.adapters.probe import ProbeOptions

HELP = "connect to a CSMS URL as a charger does (DNS, TCP, TLS, WebSocket, BootNotification) and explain failures"
MARKS = {Status.OK: "ok  ", Status.WARN: "warn", Status.FAIL: "FAIL", Status.SKIPPED: "--  "}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL", help="the charger's CSMS URL, ws(s)://HOST[:PORT]/ocpp/CHARGER_ID")
    parser.add_argument("--ocpp", choices=("1.6", "2.0.1"), default="1.6", help="OCPP version to offer (default 1.6)")
    parser.add_argument("--password", help="the charger's Basic-auth password (security profile 1/2)")
    parser.add_argument("--dns-server", metavar="IP[:PORT]", help="resolver to ask (default: /etc/resolv.conf's)")
    parser.add_argument("--ca", type=Path, metavar="FILE", help="PEM CA certificates to trust (default: the system's)")
    parser.add_argument("--timeout", default="5", metavar="S", help="seconds allowed for each step (default 5)")
    parser.add_argument("--charger-time", metavar="ISO", help="the charger's clock, e.g. 2026-01-01T12:00:00Z")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def options_from(args: argparse.Namespace) -> ProbeOptions:
    """The adapter's options from the command line; one-line :class:`UsageError` for anything wrong."""
    from chargewise.adapters.probe import ProbeOptions

    try:
        target = parse_target(args.url)
        dns_server = parse_server(args.dns_server) if args.dns_server else None
    except ProbeInputError as exc:
        raise UsageError(str(exc)) from None
    try:
        timeout = float(args.timeout)
    except ValueError:
        raise UsageError(f"--timeout {args.timeout!r} is not a number of seconds, e.g. --timeout 5") from None
    if not 0 < timeout <= 120:
        raise UsageError(f"--timeout {args.timeout} must be more than 0 and at most 120 seconds")
    if args.ca is not None and not args.ca.is_file():
        raise UsageError(
            f"--ca {args.ca}: no such file; give the PEM file of the CA that signed the server's certificate"
        )
    if args.ca is not None and not target.secure:
        raise UsageError("--ca only matters for wss:// URLs; drop it or use wss://")
    return ProbeOptions(
        target=target,
        version=args.ocpp,
        password=args.password,
        dns_server=dns_server,
        ca_file=args.ca,
        timeout=timeout,
        charger_time=_charger_time(args.charger_time),
    )


def _charger_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--charger-time {text!r} is not an ISO 8601 time, e.g. 2026-01-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a charger's display: assume UTC if no zone


async def run(args: argparse.Namespace) -> int:
    """Exit 0 when a charger with this URL should connect (warnings allowed), 1 when a step fails."""
    from chargewise.adapters.probe import run_probe

    report = await run_probe(options_from(args))
    if args.json:
        print_json(to_json(report))
    else:
        print(render(report))
    return 0 if report.ok else 1


def render(report: Report) -> str:
    """The report as text: one line per step, the explanation and the fix under a warning or failure."""
    lines = [f"probe {report.target.url} as charger {report.target.charger_id!r} (OCPP {report.version})"]
    for step in report.steps:
        took = f"{step.elapsed_s * 1000:7.1f} ms" if step.elapsed_s is not None else " " * 10
        lines.append(f"  {MARKS[step.status]}  {step.name:<9} {took}  {step.summary}")
        if step.status in (Status.WARN, Status.FAIL):
            lines += [f"{'':19}why: {step.explanation}", f"{'':19}fix: {step.fix}"]
    failed = report.failed
    lines.append(
        "result: a charger with this URL should connect"
        if failed is None
        else f"result: a charger stops at the {failed.name} step ({failed.problem})"
    )
    return "\n".join(lines)
