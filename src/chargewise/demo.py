"""``chargewise demo``: the server on SQLite plus a simulated site, with a live view, stopped by Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from chargewise.bootstrap import App, Settings, keep_gc_off_the_hot_path, start
from chargewise.charging.sitefile import SiteFile, parse_data
from chargewise.cli_support import wait_for_signal
from chargewise.config import data_dir, database_url
from chargewise.demo_ota import firmware_step, stop_step
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.services.smart_charging import evse_number
from chargewise.services.telemetry import PHASES
from chargewise.simulator.site import LAYOUT, DemoSite, start_demo_site

REFRESH_S = 1.0
WORKPLACE_MAIN_A = 125  # the workplace's main breaker: its 24 EVSEs of 32 A could draw 768 A uncontrolled


def workplace_site() -> SiteFile:
    """The demo workplace as a site (docs/sites.md): every workplace charger under one 125 A main breaker,
    every third one wired rotated, so that single-phase cars spread over the phases."""
    chargers: dict[str, dict[str, object]] = {}
    for i, placement in enumerate(p for p in LAYOUT if p.site == "workplace"):
        entry: dict[str, object] = {"parent": "main", "max_a": 32}
        if placement.template == "dual-ac-15118":
            entry["evses"] = 2
        if i % 3 == 1:
            entry["wiring"] = ["L2", "L3", "L1"]
        elif i % 3 == 2:
            entry["wiring"] = ["L3", "L1", "L2"]
        chargers[placement.name] = entry
    return parse_data({"site": {"name": "workplace"}, "nodes": {"main": {"kind": "main", "limit_a": WORKPLACE_MAIN_A}},
                       "chargers": chargers})  # fmt: skip


async def run_demo(args: argparse.Namespace) -> int:
    directory = data_dir(args.data_dir)
    settings = Settings(
        data_dir=directory, db_url=database_url(args.db, directory), host="127.0.0.1",
        ocpp_port=args.ocpp_port, http_port=args.http_port,
        # the demo's chargers are new to the server: accept them, and any id tag (a home's free charging)
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=True, heartbeat_interval=60),
        link=LinkSettings(ping_interval=20, ping_timeout=10), sites=(workplace_site(),),
    )  # fmt: skip
    console = Console()
    stop = wait_for_signal()
    app = await start(settings)
    keep_gc_off_the_hot_path()
    site: DemoSite | None = None
    ota: asyncio.Task[None] | None = None
    try:
        http_port = app.http.port if app.http is not None else settings.http_port
        console.print(f"[bold]Dashboard  http://127.0.0.1:{http_port}/[/]   log in with the admin token below")
        console.print(f"  admin token: {app.admin_token}   (kept in {directory / 'admin-token'})")
        console.print(f"[bold]chargewise demo[/] - store {settings.db_url}")
        console.print(f"  OCPP  ws://127.0.0.1:{app.ocpp.port}/ocpp/{{charger_id}}")
        console.print(f"  REST  http://127.0.0.1:{http_port}/api/v1/chargers   (OpenAPI: /openapi.json)")
        console.print(
            f"  try:  curl -H 'Authorization: Bearer {app.admin_token}' http://127.0.0.1:{http_port}/api/v1/transactions"
        )
        console.print("  Ctrl-C stops everything.\n")
        site = await start_demo_site(f"ws://127.0.0.1:{app.ocpp.port}/ocpp", seed=1, password="")
        if not getattr(args, "no_ota", False):  # an OTA campaign on two chargers, beside the live view
            ota = asyncio.get_running_loop().create_task(firmware_step(app, site, console))
        await _show(console, app, site, stop, args.duration)
    finally:
        await stop_step(ota)
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
        for part in _charging_view(app):
            console.print(part)


def _view(app: App, site: DemoSite) -> Group:
    return Group(site.table(), *_charging_view(app), Text(_summary(app, site), style="dim"))


def _bar(amps: float, limit: float, width: int = 30) -> str:
    filled = round(width * min(amps, limit) / limit) if limit > 0 else 0
    return "#" * filled + "." * (width - filled)


def _charging_view(app: App) -> list[Table | Text]:
    """The workplace's main breaker against what the chargers draw, and each EVSE's allocated limit."""
    if app.charging is None or "workplace" not in app.charging.sites:
        return []
    loop = app.charging.sites["workplace"]
    site, allocation = loop.file.site, loop.previous
    measured = [0.0, 0.0, 0.0]
    drawing: dict[str, float] = {}
    for evse_id, evse in site.evses.items():
        live = app.central.telemetry.evse(evse.charger, evse_number(evse))
        if live is None:
            continue
        for own, phase in enumerate(PHASES):
            measured[evse.wiring[own]] += live.currents_a.get(phase, 0.0)
        drawing[evse_id] = max(live.currents_a.values(), default=0.0)
    limit = min(site.nodes[site.root].limit_a)
    lines = [f"workplace main breaker {limit:.0f} A per phase (uncontrolled, its EVSEs could draw "
             f"{sum(e.max_a for e in site.evses.values()):.0f} A):"]  # fmt: skip
    for i, phase in enumerate(PHASES):
        lines.append(f"  {phase} {measured[i]:6.1f} A  [{_bar(measured[i], limit)}]")
    table = Table(title="allocation (smart charging, every 5 s and on every change)")
    for name in ("EVSE", "limit", "drawing", "why"):
        table.add_column(name, justify="right" if name in ("limit", "drawing") else "left")
    if allocation is not None:
        for evse_id, evse_limit in sorted(allocation.limits.items()):
            if evse_limit.limit_a <= 0 and drawing.get(evse_id, 0.0) <= 0:
                continue
            table.add_row(evse_id, f"{evse_limit.limit_a:.1f} A x{evse_limit.phases}",
                          f"{drawing.get(evse_id, 0.0):.1f} A", evse_limit.cause.value)  # fmt: skip
    return [Text("\n".join(lines)), table]


def _summary(app: App, site: DemoSite) -> str:
    rows = site.state()
    charging = sum(1 for r in rows if "Charging" in r.statuses)
    power = sum(r.power_w for r in rows) / 1000
    return f"server: {len(app.registry)} chargers connected | site: {charging} charging, {power:.1f} kW"
