"""``chargewise logs ...``: ask a charger for its diagnostics or security log (through the running server),
list the uploads and copy one out. ``list`` and ``get`` read the data directory, so they work with the server
stopped."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table

from chargewise.adapters import api_fleet_models as m
from chargewise.cli_rest import add_server_option, rest
from chargewise.cli_support import UsageError, load_config, print_json


def add_arguments(parser: argparse.ArgumentParser, store_options: object) -> None:
    """``store_options``: ``cli._store_options`` (--data-dir, --db, -v), passed in so the imports point one way."""
    sub = parser.add_subparsers(dest="logs_command", required=True, metavar="ACTION")
    ask = sub.add_parser("request", help="ask a connected charger to upload its log here")
    ask.add_argument("charger_id", metavar="CHARGER")
    ask.add_argument("--kind", default="diagnostics", help="diagnostics (default) or security")
    ask.add_argument("--json", action="store_true", help="machine-readable")
    add_server_option(ask)
    listing = sub.add_parser("list", help="log requests, newest first, with status and file")
    listing.add_argument("--charger", dest="charger_id", help="only this charger's")
    listing.add_argument("--json", action="store_true", help="machine-readable")
    get = sub.add_parser("get", help="copy an uploaded log out of the data directory")
    get.add_argument("log_id", metavar="ID")
    get.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="where to write it (- : stdout)")
    for p in (ask, listing, get):
        store_options(p)  # type: ignore[operator]


async def run(args: argparse.Namespace) -> int:
    if args.logs_command == "request":
        if args.kind not in ("diagnostics", "security"):
            raise UsageError(f"--kind {args.kind[:40]!r} is not diagnostics or security; give one of those")
        answer = await rest(args, "POST", f"/api/v1/chargers/{args.charger_id}/logs", {"kind": args.kind})
        if args.json:
            print_json(answer)
        else:
            print(f"log {answer['id']}: {args.charger_id} answered {answer['status']} ({answer['action']}); "
                  f"see: chargewise logs list")  # fmt: skip
        return 0
    from chargewise.adapters.log_files import FileLogArchive

    directory, _url, _config = load_config(args)
    archive = FileLogArchive(directory / "logs")
    if args.logs_command == "list":
        records = [r for r in archive.records() if args.charger_id is None or r.charger_id == args.charger_id]
        if args.json:
            print_json(msgspec.to_builtins([m.log_view(r) for r in records]))
            return 0
        table = Table("id", "charger", "kind", "requested", "status", "file", "bytes")
        for r in records:
            table.add_row(r.id, r.charger_id, r.kind.value, f"{r.requested_at:%Y-%m-%d %H:%M:%S}", r.status,
                          r.file.name if r.file else "", str(r.file.size) if r.file else "")  # fmt: skip
        Console().print(table)
        return 0
    record = archive.get(args.log_id) if len(args.log_id) <= 64 else None
    path = archive.file(args.log_id) if record is not None else None
    if record is None or path is None:
        why = "no such log" if record is None else f"log {args.log_id} has no file yet (status {record.status})"
        raise UsageError(f"{why}; see: chargewise logs list")
    if str(args.output) == "-":
        import sys

        sys.stdout.buffer.write(path.read_bytes())
        return 0
    try:
        shutil.copyfile(path, args.output)
    except OSError as exc:
        raise UsageError(f"-o {args.output}: {exc.strerror or exc}; give a writable file path") from None
    print(f"{args.output}: {record.file.name if record.file else ''}, {path.stat().st_size} bytes")
    return 0
