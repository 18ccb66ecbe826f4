"""``chargewise demo``: the server on SQLite plus a simulated site, with a live view, stopped by Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from chargewise.bootstrap import App, Settings, keep_gc_off_the_hot_path, start
from chargewise.cli_support import wait_for_signal
from chargewise.config import data_dir, database_url
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.simulator.site import DemoSite, start_demo_site

REFRESH_S = 1.0


async def run_demo(args: argparse.Namespace) -> int:
    directory = data_dir(args.data_dir)
    settings = Settings(
        data_dir=directory, db_url=database_url(args.db, directory), host="127.0.0.1",
        ocpp_port=args.ocpp_port, http_port=args.http_port,
        # the demo's chargers are new to the server: accept them, and any id tag (a home's free charging)
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=True, heartbeat_interval=60),
        link=LinkSettings(ping_interval=20, ping_timeout=10),
    )  # fmt: skip
    console = Console()
    stop = wait_for_signal()
    app = await start(settings)
    keep_gc_off_the_hot_path()
    site: DemoSite | None = None
    try:
        http_port = app.http.port if app.http is not None else settings.http_port
        console.print(f"[bold]chargewise demo[/] - store {settings.db_url}")
        console.print(f"  OCPP  ws://127.0.0.1:{app.ocpp.port}/ocpp/{{charger_id}}")
        console.print(f"  REST  http://127.0.0.1:{http_port}/api/v1/chargers   (OpenAPI: /openapi.json)")
        console.print(f"  admin token: {app.admin_token}   (kept in {directory / 'admin-token'})")
        console.print(
            f"  try:  curl -H 'Authorization: Bearer {app.admin_token}' http://127.0.0.1:{http_port}/api/v1/transactions"
        )
        console.print("  Ctrl-C stops everything.\n")
        site = await start_demo_site(f"ws://127.0.0.1:{app.ocpp.port}/ocpp", seed=1, password="")
        await _show(console, app, site, stop, args.duration)
    finally:
        console.print("stopping...")
        if site is not None:
            await site.stop()
        await app.stop()
    console.print("stopped cleanly.")
    return 0


async def _show(console: Console, app: App, site: DemoSite, stop: asyncio.Event, duration: float | None) -> None:
    """Refresh the live view until Ctrl-C (or ``duration`` seconds); plain lines when not on a terminal."""
    deadline = time.monotonic() + duration if duration else None
    began = time.monotonic()
    with Live(_view(app, site), console=console, refresh_per_second=2, transient=False) if console.is_terminal else (
        contextlib.nullcontext()
    ) as live:  # fmt: skip
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REFRESH_S)
            if live is not None:
                live.update(_view(app, site))
            elif int(time.monotonic() - began) % 5 == 0:
                console.print(_summary(app, site))
    if not console.is_terminal:
        console.print(site.table())


def _view(app: App, site: DemoSite) -> Group:
    return Group(site.table(), Text(_summary(app, site), style="dim"))


def _summary(app: App, site: DemoSite) -> str:
    rows = site.state()
    charging = sum(1 for r in rows if "Charging" in r.statuses)
    power = sum(r.power_w for r in rows) / 1000
    return f"server: {len(app.registry)} chargers connected | site: {charging} charging, {power:.1f} kW"
