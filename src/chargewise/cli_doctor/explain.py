"""``chargewise doctor explain CHARGER [--since 7d] [--json]``: why a charger is offline or flaky, from what the
server recorded of its link (the same as ``GET /api/v1/chargers/{id}/doctor``).

Run it beside the server, on the same store (``--data-dir`` / ``--db``). The server writes the signals in
batches (``[doctor] flush_every``, 5 minutes by default), so the last minutes show up after the next flush;
the REST route also sees the ones not yet written.
"""

from __future__ import annotations

import argparse
from datetime import datetime

import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chargewise.adapters import api_models as m
from chargewise.adapters.clock import SystemClock
from chargewise.cli_support import opened_store, print_json
from chargewise.services.doctor import Doctor
from chargewise.services.link_signals import LinkSignals

HELP = "why a charger is offline or flaky: its link timeline and the likely root cause, with the fix"
TIMELINE_ROWS = 40  # the newest entries shown as text (--json has them all)
CONFIDENCE = ((0.75, "very likely"), (0.5, "likely"), (0.25, "possibly"), (0.0, "unlikely"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("charger_id", metavar="CHARGER", help="the charger's id (as in: chargewise chargers list)")
    parser.add_argument("--since", help="window: a duration back from now (90m, 24h, 7d, 2w) or an ISO 8601 time "
                        "(default 7d)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the findings and timeline as JSON")
    parser.add_argument("--data-dir", help="data directory (default $CHARGEWISE_DATA_DIR or ./data)")
    parser.add_argument("--db", help="database URL (default $CHARGEWISE_DB or SQLite in the data directory)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more")


async def run(args: argparse.Namespace) -> int:
    from chargewise.adapters.sql import SqlStore
    from chargewise.adapters.sql.link_signals import SqlLinkSignalStore

    async with opened_store(args) as store:
        assert isinstance(store, SqlStore)  # opened_store opens the SQL store --data-dir / --db name
        signals = LinkSignals(store=SqlLinkSignalStore(store))
        doctor = Doctor(store=store, signals=signals, clock=SystemClock())
        view = m.doctor_view(await doctor.explain(args.charger_id, args.since))
    if args.json:
        print_json(msgspec.to_builtins(view))
    else:
        render(view, Console(highlight=False))
    return 0


def render(view: m.DoctorView, console: Console) -> None:
    """The report as a home owner reads it: the likely cause and its fix first, then the evidence."""
    state = "[green]connected now[/]" if view.connected else "[red]not connected now[/]"
    console.print(f"[bold]{escape(view.charger_id)}[/]: {state} (looking back to {_when(view.since)})")
    first, *others = view.findings
    console.print()
    console.print(f"[bold]{escape(first.summary)}[/]  [dim]({_likely(first.confidence)}, {first.cause})[/]")
    if first.explanation:
        console.print(escape(first.explanation))
    if first.fix:
        console.print(f"[bold]What to do:[/] {escape(first.fix)}")
    for e in first.evidence:
        console.print(f"  - {escape(e.what)}: {escape(e.value)}" + (f" [dim]({_when(e.at)})[/]" if e.at else ""))
    for hint in first.tells_apart:
        console.print(f"  [dim]to tell apart:[/] {escape(hint)}")
    if others:
        console.print()
        console.print("[bold]Less likely:[/]")
        for f in others:
            console.print(f"  - {escape(f.summary)} [dim]({_likely(f.confidence)}, {f.cause})[/]")
    link = view.link
    console.print()
    console.print(
        f"[bold]Link:[/] {link.connections} connections, {link.disconnects} disconnects"
        + (f", ping {link.ping_p50_ms:g} ms median / {link.ping_p95_ms} ms p95" if link.ping_p50_ms is not None else "")
        + (f", {link.ping_loss:.0%} of pings lost" if link.ping_loss else "")
        + (f", signal {link.rssi_median_dbm:g} dBm median" if link.rssi_median_dbm is not None else "")
    )  # fmt: skip
    if view.timeline:
        table = Table(title="Timeline (newest last)", title_justify="left", show_edge=False)
        table.add_column("when")
        table.add_column("what")
        table.add_column("detail")
        for entry in view.timeline[-TIMELINE_ROWS:]:
            table.add_row(_when(entry.at), entry.what.replace("_", " "), escape(entry.detail))
        console.print(table)


def _likely(confidence: float) -> str:
    return next(word for floor, word in CONFIDENCE if confidence >= floor)


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
