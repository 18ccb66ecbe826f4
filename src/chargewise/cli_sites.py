"""``chargewise sites ...``: check a site file, show it, try one allocation cycle on a state document, and read
a running server's joint plan of a site (``plan NAME``, through its REST API).

The site file and state formats are in ``docs/sites.md``. A bad file is one line naming the field and the fix
(a :class:`chargewise.cli_support.UsageError`), exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chargewise.adapters.site_files import with_tariff
from chargewise.charging.allocate import allocate
from chargewise.charging.site import PHASES, Evse, LimitChange, Node, Site, children
from chargewise.charging.sitefile import SiteFile, parse
from chargewise.charging.sitefile_values import SiteFileError
from chargewise.charging.state import Policy
from chargewise.charging.statefile import allocation_data, parse_state
from chargewise.cli_rest import add_server_option, rest
from chargewise.cli_support import UsageError, print_json


def add_arguments(parser: argparse.ArgumentParser, store_options: Callable[[argparse.ArgumentParser], None]) -> None:
    sub = parser.add_subparsers(dest="sites_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate a site file and print its tree with limits and wiring")
    check.add_argument("file", type=Path, metavar="FILE")
    show = sub.add_parser("show", help="the site as the allocator sees it (nodes, EVSEs, meter, policy)")
    show.add_argument("file", type=Path, metavar="FILE")
    show.add_argument("--json", action="store_true", help="machine-readable")
    one = sub.add_parser("allocate", help="one allocation cycle for a state document (see docs/sites.md)")
    one.add_argument("file", type=Path, metavar="FILE")
    one.add_argument("--state", type=Path, required=True, metavar="STATE.json", help="now, meter and EVSE states")
    one.add_argument("--json", action="store_true", help="machine-readable")
    plan = sub.add_parser("plan", help="a running server's joint plan of site NAME: each car's current per slot, why")
    plan.add_argument("name", metavar="NAME")
    plan.add_argument("--json", action="store_true", help="machine-readable (the REST answer)")
    add_server_option(plan)
    store_options(plan)


async def run(args: argparse.Namespace) -> int:
    if args.sites_command == "plan":
        view = await rest(args, "GET", f"/api/v1/sites/{quote(args.name, safe='')}/plan")
        if args.json:
            print_json(view)
        else:
            for line in plan_lines(view):
                print(line)
        return 0
    loaded = load(args.file)
    if args.sites_command == "check":
        print(f"{args.file}: ok, {summary(loaded)}")
        for line in tree(loaded.site):
            print(line)
        for warning in loaded.warnings:
            print(f"warning: {warning}")
    elif args.sites_command == "show":
        if args.json:
            print_json(site_data(loaded.site, loaded.policy))
        else:
            for line in tree(loaded.site):
                print(line)
    else:
        raw = _read(args.state)
        try:
            document = json.loads(raw)
            now, state = parse_state(document if isinstance(document, dict) else {"": document}, loaded.site)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{args.state}: not JSON ({exc.msg} at line {exc.lineno}; see docs/sites.md)") from None
        except SiteFileError as exc:
            raise UsageError(f"{args.state}: {exc}") from None
        result = allocation_data(allocate(loaded.site, state, now, None, loaded.policy))
        if args.json:
            print_json(result)
        else:
            for evse_id, lim in result["evses"].items():
                print(f"{evse_id:<14} {lim['limit_a']:>5g} A x {lim['phases']}  {lim['limit_w'] / 1000:>6.2f} kW  "
                      f"{lim['reason']}")  # fmt: skip
    return 0


def plan_lines(view: dict[str, Any]) -> list[str]:
    """``GET /api/v1/sites/{name}/plan`` for a person: the plan's head, each planned EVSE with its energy and the
    plan's explanation, then why every session charges now or not."""
    if view.get("made_at") is None:
        lines = [f"site {view['site']}: no plan (no session in mode plan with an energy and a departure ahead)"]
    else:
        cost = view.get("energy_cost")
        price = "" if cost is None else f", energy {cost:.2f} {view.get('currency') or '(flat prices)'}"
        lines = [f"site {view['site']}: plan made {view['made_at']} ({view['trigger']}, {view['method']}), "
                 f"{len(view['slot_starts'])} slots{price}, peak {view['peak_kw']:g} kW"]  # fmt: skip
    if view.get("prices_note"):
        lines.append(f"  note: {view['prices_note']}")
    for e in view.get("evses", []):
        met = "met" if e["shortfall_kwh"] <= 1e-6 else f"{e['shortfall_kwh']:g} kWh short"
        lines.append(f"{e['id']}: {e['energy_kwh']:g} kWh by {e['departure']}, plans {e['delivered_kwh']:g} ({met}); "
                     f"now {e['target_a']:g} A")  # fmt: skip
        lines += [f"  {why}" for why in e.get("explanation", [])]
    for now in view.get("sessions", []):
        limit = "-" if now.get("limit_a") is None else f"{now['limit_a']:g} A"
        lines.append(f"now {now['id']} ({now['mode']}): {limit}: {now['why']}")
    return lines


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def load(path: Path) -> SiteFile:
    """The parsed site file; any problem is a one-line :class:`UsageError` starting with the file name."""
    try:
        return with_tariff(parse(_read(path)), path.parent)
    except SiteFileError as exc:
        raise UsageError(f"{path}: {exc}") from None


def summary(loaded: SiteFile) -> str:
    site, policy = loaded.site, loaded.policy
    chargers = {e.charger for e in site.evses.values()}
    nodes = len(site.nodes) - len(chargers)
    return (f"site {site.name!r}: {nodes} nodes, {len(chargers)} chargers, {len(site.evses)} EVSEs; policy "
            f"{policy.kind.value}, margin {policy.margin_a:g} A, ramp {policy.ramp_a:g} A/cycle")  # fmt: skip


def tree(site: Site) -> list[str]:
    """The site as an indented tree, one node or EVSE a line with its limits and wiring."""
    lines: list[str] = []

    def walk(item: str, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        label = _evse_label(site.evses[item]) if item in site.evses else _node_label(site, site.nodes[item])
        lines.append(f"{prefix}{branch}{label}")
        below = children(site, item) if item in site.nodes else []
        for k, child in enumerate(below):
            walk(child, prefix + ("" if top else ("   " if last else "│  ")), k == len(below) - 1, False)

    walk(site.root, "", True, True)
    return lines


def _amps(limit: tuple[float, float, float]) -> str:
    if not any(math.isfinite(a) for a in limit):
        return ""
    if limit[0] == limit[1] == limit[2]:
        return f"{limit[0]:g} A"
    return "/".join("-" if not math.isfinite(a) else f"{a:g}" for a in limit) + " A (L1/L2/L3)"


def _change_text(change: LimitChange) -> str:
    when = change.at.isoformat() if change.at is not None else f"daily {change.daily:%H:%M}"
    parts = [_amps(change.limit_a) if change.limit_a else "", f"{change.limit_kw:g} kW" if change.limit_kw else ""]
    return f"{when} -> {' '.join(p for p in parts if p)}"


def _node_label(site: Site, node: Node) -> str:
    parts = [f"{node.id} ({node.kind})", _amps(node.limit_a)]
    if math.isfinite(node.limit_kw):
        parts.append(f"{node.limit_kw:g} kW")
    if node.schedule:
        parts.append("schedule: " + "; ".join(_change_text(c) for c in node.schedule))
    if site.meter is not None and site.meter.node == node.id:
        parts.append(f"meter ({'includes' if site.meter.includes_ev else 'excludes'} EV load)")
    return "  ".join(p for p in parts if p)


def _evse_label(evse: Evse) -> str:
    wiring = " ".join(f"{PHASES[own]}->{PHASES[site]}" for own, site in enumerate(evse.wiring[: evse.phases]))
    switching = ", phase switching" if evse.phase_switching else ""
    return (f"{evse.id}  {evse.phases}-phase {wiring}  {evse.min_a:g}-{evse.max_a:g} A  {evse.voltage_v:g} V  "
            f"mode {evse.mode.value}  priority {evse.priority}{switching}")  # fmt: skip


def site_data(site: Site, policy: Policy) -> dict[str, Any]:
    """The site and policy as JSON-ready data (``inf``: no limit, written as null)."""

    def finite(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return {
        "name": site.name,
        "root": site.root,
        "policy": {"kind": policy.kind.value, "margin_a": policy.margin_a, "ramp_a": policy.ramp_a,
                   "probe_a": policy.probe_a, "taper_gap_a": policy.taper_gap_a, "rotation_s": policy.rotation_s,
                   "stagger": policy.stagger, "solar_delay_s": policy.solar_delay_s,
                   "phase_hold_s": policy.phase_hold_s},
        "meter": None if site.meter is None else {"node": site.meter.node, "includes_ev": site.meter.includes_ev},
        "nodes": {n.id: {"parent": n.parent, "kind": n.kind, "limit_a": [finite(a) for a in n.limit_a],
                         "limit_kw": finite(n.limit_kw), "schedule": [_change_text(c) for c in n.schedule]}
                  for n in site.nodes.values()},
        "evses": {e.id: {"charger": e.charger, "parent": e.parent, "wiring": [PHASES[p] for p in e.wiring],
                         "phases": e.phases, "phase_switching": e.phase_switching, "voltage_v": e.voltage_v,
                         "min_a": e.min_a, "max_a": e.max_a, "priority": e.priority, "mode": e.mode.value}
                  for e in site.evses.values()},
    }  # fmt: skip
