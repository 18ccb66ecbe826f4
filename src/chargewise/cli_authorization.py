"""``chargewise tokens push`` / ``tokens cache-policy`` and ``chargewise reservations ...``: local lists and
reservations, through the running server (they talk to connected chargers). Errors are one line with the fix."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chargewise.cli_rest import add_server_option, rest
from chargewise.cli_support import UsageError, print_json

StoreOptions = Callable[[argparse.ArgumentParser], None]


def add_token_arguments(tsub: Any, store_options: StoreOptions) -> None:
    """``tokens push`` and ``tokens cache-policy`` on the ``tokens`` subparsers (``cli`` passes its options)."""
    push = tsub.add_parser("push", help="send the local authorization list to a charger (or --all connected)")
    push.add_argument("charger_id", metavar="CHARGER", nargs="?")
    push.add_argument("--all", action="store_true", help="every connected charger")
    push.add_argument("--full", action="store_true", help="send the whole list, whatever the charger holds")
    push.add_argument("--json", action="store_true", help="machine-readable")
    policy = tsub.add_parser("cache-policy", help="clear-on-block (ClearCache when a token is blocked) or keep")
    policy.add_argument("charger_id", metavar="CHARGER")
    policy.add_argument("policy", metavar="POLICY", help="clear-on-block or keep")
    for p in (push, policy):
        add_server_option(p)
        store_options(p)


def add_arguments(parser: argparse.ArgumentParser, store_options: StoreOptions) -> None:
    sub = parser.add_subparsers(dest="reservations_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="reserve an EVSE of a connected charger for a token (ReserveNow)")
    add.add_argument("charger_id", metavar="CHARGER")
    add.add_argument("--token", required=True, metavar="ID_TAG", help="the token that may use it")
    add.add_argument("--evse", type=int, default=0, help="EVSE (1.6 connector) number; 0 (default): any")
    add.add_argument("--minutes", type=float, help="how long it holds (or --until)")
    add.add_argument("--until", help="when it expires, ISO 8601 with an offset")
    add.add_argument("--parent", help="a group id tag whose tokens may use it too")
    listing = sub.add_parser("list", help="reservations, newest first")
    listing.add_argument("--charger", dest="charger_id")
    cancel = sub.add_parser("cancel", help="cancel a reservation (CancelReservation)")
    cancel.add_argument("reservation_id", metavar="ID")
    for p in (add, listing, cancel):
        p.add_argument("--json", action="store_true", help="machine-readable")
        add_server_option(p)
        store_options(p)


async def tokens(args: argparse.Namespace) -> int:
    if args.action == "cache-policy":
        held = await rest(args, "PUT", f"/api/v1/chargers/{args.charger_id}/local-list/cache-policy",
                          {"policy": args.policy})  # fmt: skip
        print(f"{args.charger_id}: authorization cache policy {held['cache_policy']}")
        return 0
    if bool(args.all) == (args.charger_id is not None):
        raise UsageError("give a CHARGER or --all (not both); see: chargewise tokens push --help")
    if args.all:
        results = await rest(args, "POST", "/api/v1/local-lists/push", {"full": args.full})
    else:
        results = [await rest(args, "POST", f"/api/v1/chargers/{args.charger_id}/local-list", {"full": args.full})]
    if args.json:
        print_json(results)
    else:
        for r in results:
            print(_push_line(r))
    return 0 if all(r["ok"] for r in results) else 1


def _push_line(r: dict[str, Any]) -> str:
    if not r["ok"]:
        return f"{r['charger_id']}: not pushed: {r['error']}"
    sent = ", ".join(f"{s['update_type']} v{s['version']} ({s['entries']}) {s['status']}" for s in r["sent"])
    left = f"; {len(r['left_out'])} tokens left out (over its maximum length)" if r["left_out"] else ""
    cache = "; cache cleared" if r["cache_cleared"] else ""
    return f"{r['charger_id']}: list version {r['version']}: {sent or 'up to date'}{left}{cache}"


async def reservations(args: argparse.Namespace) -> int:
    command = args.reservations_command
    if command == "add":
        if (args.minutes is None) == (args.until is None):
            raise UsageError("give either --minutes or --until (e.g. --minutes 30)")
        request: dict[str, Any] = {"id_tag": args.token, "evse_id": args.evse}
        if args.minutes is not None:
            request["minutes"] = args.minutes
        else:
            request["expires_at"] = _until(args.until)
        if args.parent:
            request["parent_id_tag"] = args.parent
        found = [await rest(args, "POST", f"/api/v1/chargers/{args.charger_id}/reservations", request)]
    elif command == "cancel":
        if not args.reservation_id.isdigit():
            why = f"ID {args.reservation_id[:40]!r} is not a reservation id"
            raise UsageError(f"{why}; see: chargewise reservations list")
        found = [await rest(args, "POST", f"/api/v1/reservations/{args.reservation_id}/cancel")]
    else:
        query = f"?charger_id={args.charger_id}" if args.charger_id else ""
        found = await rest(args, "GET", f"/api/v1/reservations{query}")
    if args.json:
        print_json(found if command == "list" else found[0])
        return 0
    for r in found:
        print(f"reservation {r['id']}: {r['charger_id']} EVSE {r['evse_id']} for {r['id_tag']} until "
              f"{r['expires_at']}: {r['status']}")  # fmt: skip
    return 0 if command == "list" or found[0]["status"] in ("Accepted", "Cancelled") else 1


def _until(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        why = f"--until {text[:40]!r} is not an ISO 8601 time"
        raise UsageError(f"{why}; write e.g. 2026-12-03T07:30:00+01:00") from None
    if moment.tzinfo is None:
        raise UsageError("--until has no offset; write e.g. 2026-12-03T07:30:00+01:00 or ...Z")
    return moment.isoformat()
