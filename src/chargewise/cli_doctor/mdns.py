"""``chargewise doctor mdns``: browse multicast DNS from this network and say whether discovery reaches the
charger's subnet."""

from __future__ import annotations

import argparse
import ipaddress

from chargewise.cli_support import UsageError, print_json
from chargewise.doctor.discovery import Announcement, Network, Verdict, assess, parse_network
from chargewise.doctor.probe import ProbeInputError, Status

HELP = "browse mDNS from this network: the chargewise servers and charger services heard, and the VLAN verdict"
MARKS = {Status.OK: "ok  ", Status.WARN: "warn", Status.FAIL: "FAIL", Status.SKIPPED: "--  "}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", default="3", metavar="S", help="seconds to listen (default 3)")
    parser.add_argument("--charger-ip", metavar="IP[/PREFIX]", help="the charger's address or subnet (default /24)")
    parser.add_argument(
        "--interface",
        action="append",
        metavar="IP",
        default=[],
        help="listen on the interface with this address only (repeatable; default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print the services and verdicts as JSON")


def _checked(args: argparse.Namespace) -> tuple[float, Network | None, list[str]]:
    try:
        seconds = float(args.timeout)
    except ValueError:
        raise UsageError(f"--timeout {args.timeout!r} is not a number of seconds, e.g. --timeout 3") from None
    if not 0 < seconds <= 60:
        raise UsageError(f"--timeout {args.timeout} must be more than 0 and at most 60 seconds")
    try:
        network = parse_network(args.charger_ip) if args.charger_ip else None
    except ProbeInputError as exc:
        raise UsageError(str(exc)) from None
    for address in args.interface:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise UsageError(
                f"--interface {address!r} must be an IPv4 address of this machine, e.g. 192.168.1.10"
            ) from None
    return seconds, network, args.interface


async def run(args: argparse.Namespace) -> int:
    """Exit 0 unless a verdict fails (no server heard where one should be)."""
    from chargewise.adapters.mdns import browse, local_addresses

    seconds, network, interfaces = _checked(args)
    local = tuple(interfaces) or local_addresses()
    try:
        found = await browse(seconds=seconds, interfaces=interfaces or None)
    except OSError as exc:
        raise UsageError(f"cannot listen for multicast DNS here ({exc.strerror or exc}); check --interface") from None
    verdicts = assess(found, local=local, charger_net=network, waited_s=seconds)
    if args.json:
        print_json(
            {
                "local_addresses": list(local),
                "charger_subnet": str(network) if network else None,
                "services": [_service(a) for a in found],
                "verdicts": [_verdict(v) for v in verdicts],
                "ok": all(v.status is not Status.FAIL for v in verdicts),
            }
        )
    else:
        print(render(found, verdicts, local=local, seconds=seconds))
    return 0 if all(v.status is not Status.FAIL for v in verdicts) else 1


def _service(a: Announcement) -> dict[str, object]:
    return {
        "type": a.type,
        "name": a.name,
        "server": a.server,
        "port": a.port,
        "addresses": list(a.addresses),
        "txt": dict(a.txt),
        "chargewise": a.ours,
    }


def _verdict(v: Verdict) -> dict[str, object]:
    return {
        "status": v.status.value,
        "problem": v.problem,
        "summary": v.summary,
        "explanation": v.explanation,
        "fix": v.fix,
    }


def render(
    found: tuple[Announcement, ...], verdicts: tuple[Verdict, ...], *, local: tuple[str, ...], seconds: float
) -> str:
    lines = [f"listened {seconds:g} s for mDNS on {', '.join(local)}; heard {len(found)} service(s)"]
    for a in found:
        tag = " (chargewise)" if a.ours else ""
        lines.append(f"  {a.type:<22} {a.name.split('._', 1)[0]}{tag}  {', '.join(a.addresses) or '-'} port {a.port}")
    for v in verdicts:
        lines.append(f"{MARKS[v.status]}  {v.summary}")
        if v.explanation:
            lines.append(f"      why: {v.explanation}")
        if v.fix:
            lines.append(f"      fix: {v.fix}")
    return "\n".join(lines)
