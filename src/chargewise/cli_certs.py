"""``chargewise certs ...`` and ``chargewise chargers rotate-password / security-profile``: certificates and
credential changes of live chargers, through the running server's REST API (``adapters/http_certs.py``).
Every refusal is one line naming the field and the fix, exit code 2."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from chargewise.cli_support import UsageError, print_json
from chargewise.config import data_dir

CHARGER_ACTIONS = frozenset({"rotate-password", "security-profile"})


def _server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", help="REST base URL of the running server (default $CHARGEWISE_SERVER or "
                                    "http://127.0.0.1:8080)")  # fmt: skip
    p.add_argument("--data-dir", help="data directory holding the admin token (default $CHARGEWISE_DATA_DIR or ./data)")
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("-v", "--verbose", action="count", default=0, help=argparse.SUPPRESS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="certs_command", required=True, metavar="ACTION")
    ca = sub.add_parser("ca", help="the CSMS certificate authority that signs chargers' CSRs")
    ca.add_argument("--json", action="store_true", help="machine-readable")
    listed = sub.add_parser("list", help="certificates installed on a charger (GetInstalledCertificateIds)")
    listed.add_argument("charger_id")
    listed.add_argument("--type", action="append", default=[], help="csms-root, manufacturer-root, v2g-root, ...")
    listed.add_argument("--json", action="store_true", help="machine-readable")
    install = sub.add_parser("install", help="install a root certificate on a charger (InstallCertificate)")
    install.add_argument("charger_id")
    install.add_argument("type", help="csms-root, manufacturer-root (both versions); v2g-root, mo-root (2.0.1)")
    install.add_argument("file", nargs="?", type=Path, help="PEM certificate (csms-root without it: the CSMS CA)")
    delete = sub.add_parser("delete", help="delete an installed certificate by its serial (DeleteCertificate)")
    delete.add_argument("charger_id")
    delete.add_argument("serial", help="hex serial number, as `certs list` shows it")
    renew = sub.add_parser("renew", help="ask a charger for a new CSR; the CSMS CA signs it for its own id")
    renew.add_argument("charger_id")
    signings = sub.add_parser("signings", help="a charger's last CSRs and what became of them")
    signings.add_argument("charger_id")
    signings.add_argument("--json", action="store_true", help="machine-readable")
    for p in (ca, listed, install, delete, renew, signings):
        _server_options(p)


def add_charger_actions(csub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``chargers rotate-password`` and ``chargers security-profile`` (live chargers, through the server)."""
    rotate = csub.add_parser("rotate-password", help="give a connected charger a new Basic-auth password")
    rotate.add_argument("charger_id")
    rotate.add_argument("--password", help="16-40 characters (default: a random one, shown nowhere)")
    _server_options(rotate)
    profile = csub.add_parser("security-profile", help="raise a connected charger to security profile 2 or 3")
    profile.add_argument("charger_id")
    profile.add_argument("profile", type=int, choices=(2, 3))
    profile.add_argument("--url", help="2.0.1: the wss:// URL it should connect to, without its id")
    profile.add_argument("--deadline", type=float, default=300.0, help="seconds to come back with it (default 300)")
    profile.add_argument("--interface", default="Wired0", help="2.0.1 ocppInterface (default Wired0)")
    _server_options(profile)


async def rest(args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None = None,
               query: list[tuple[str, str]] | None = None) -> Any:  # fmt: skip
    """Call the server's REST API; a refusal becomes a one-line UsageError (its error and fix)."""
    import aiohttp

    token = _token(args)
    base = args.server or os.environ.get("CHARGEWISE_SERVER") or "http://127.0.0.1:8080"
    timeout = aiohttp.ClientTimeout(total=getattr(args, "deadline", 0) + 60)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.request(
            method, f"{base.rstrip('/')}{path}", json=body, params=query or None,
            headers={"Authorization": f"Bearer {token}"},
        ) as response:  # fmt: skip
            answer = await response.json(content_type=None)
    except aiohttp.ClientError as exc:
        raise UsageError(f"cannot reach the server at {base} ({exc}); is `chargewise serve` running? (--server URL)"
                         ) from None  # fmt: skip
    if response.status >= 400:
        raise UsageError(f"{answer.get('error', f'HTTP {response.status}')}; {answer.get('fix', '')}".rstrip("; "))
    return answer


def _token(args: argparse.Namespace) -> str:
    """``$CHARGEWISE_ADMIN_TOKEN``, else the token the server keeps in its data directory."""
    token = os.environ.get("CHARGEWISE_ADMIN_TOKEN")
    if token:
        return token
    path = data_dir(args.data_dir) / "admin-token"
    try:
        return path.read_text().strip()
    except OSError:
        raise UsageError(f"no admin token in {path}: give the server's --data-dir, or set CHARGEWISE_ADMIN_TOKEN"
                         ) from None  # fmt: skip


def _charger(args: argparse.Namespace) -> str:
    from urllib.parse import quote

    return f"/api/v1/chargers/{quote(args.charger_id, safe='')}"


async def run(args: argparse.Namespace) -> int:
    command = args.certs_command
    if command == "ca":
        ca = await rest(args, "GET", "/api/v1/ca")
        if args.json:
            print_json(ca)
        else:
            print(f"{ca['subject']}  sha256 {ca['sha256_fingerprint']}  until {ca['not_after']}")
            print(ca["pem"], end="")
    elif command == "list":
        found = await rest(args, "GET", _charger(args) + "/certificates", query=[("type", t) for t in args.type])
        if args.json:
            print_json(found)
        for item in [] if args.json else found:
            print(f"{item['type']:<18} serial {item['serial_number']}  issuer name {item['issuer_name_hash'][:16]}...")
        if not found and not args.json:
            print(f"{args.charger_id} has no certificate of that type installed")
    elif command == "install":
        pem = None
        if args.file is not None:
            try:
                pem = args.file.read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"FILE {args.file}: cannot read it ({getattr(exc, 'strerror', None) or exc}); "
                                 "give a PEM certificate file") from None  # fmt: skip
        done = await rest(args, "POST", _charger(args) + "/certificates", {"type": args.type, "certificate": pem})
        return _answered(f"InstallCertificate {args.type}", done)
    elif command == "delete":
        done = await rest(args, "DELETE", _charger(args) + f"/certificates/{args.serial}")
        return _answered(f"DeleteCertificate {args.serial}", done)
    elif command == "renew":
        return _answered("renew (a CSR follows)", await rest(args, "POST", _charger(args) + "/certificates/renew"))
    else:
        found = await rest(args, "GET", _charger(args) + "/signings")
        if args.json:
            print_json(found)
        for s in [] if args.json else found:
            print(f"{s['at']}  {'accepted' if s['accepted'] else 'refused '}  {s['detail']}  delivered: "
                  f"{s['delivered'] or '-'}")  # fmt: skip
    return 0


async def charger_action(args: argparse.Namespace) -> int:
    if args.action == "rotate-password":
        result = await rest(args, "POST", _charger(args) + "/password-rotation", {"password": args.password})
    else:
        body = {"profile": args.profile, "csms_url": args.url, "deadline_s": args.deadline,
                "interface": args.interface}  # fmt: skip
        result = await rest(args, "POST", _charger(args) + "/security-profile", body)
    print(f"{result['charger_id']} {result['change']}: {result['status']}: {result['detail']}")
    return 0 if result["done"] else 1


def _answered(what: str, done: dict[str, Any]) -> int:
    detail = f" ({done['detail']})" if done.get("detail") else ""
    print(f"{what}: {done['status']}{detail}")
    return 0 if done["status"] == "Accepted" else 1
