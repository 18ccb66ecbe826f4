"""``chargewise cluster nodes`` and ``chargewise call --bus``: the cluster seen from the command line, over the
bus itself (no REST port needed)."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from rich.console import Console
from rich.table import Table

from chargewise.cli_support import UsageError, print_json
from chargewise.domain.bus import Bus, BusError, id_from_key


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    nodes = sub.add_parser("nodes", help="the live nodes and how many charger links each holds")
    nodes.add_argument("--bus", help="cluster bus, nats://HOST:PORT (default $CHARGEWISE_BUS)")
    nodes.add_argument("--cluster", help="the cluster's name on the bus (default $CHARGEWISE_CLUSTER or main)")
    nodes.add_argument("--json", action="store_true", help="print JSON")


async def _open(url: str | None) -> Bus:
    if not url:
        raise UsageError("no bus: pass --bus nats://HOST:4222 (or set $CHARGEWISE_BUS)")
    from chargewise.adapters.nats_bus import connect

    try:
        return await connect(url, name="chargewise-cli")
    except BusError as exc:
        raise UsageError(f"{exc}; is NATS running, and is --bus right?") from None


async def cluster(args: argparse.Namespace, url: str | None, name: str) -> int:
    import msgspec

    from chargewise.services.cluster import NODE_TTL, Names

    names = Names(name)
    bus = await _open(url)
    try:
        nodes = await bus.bucket(names.nodes, ttl=NODE_TTL)
        live = {msgspec.json.decode(e.value)["node"] for e in await nodes.items()}
        links: dict[str, int] = dict.fromkeys(sorted(live), 0)
        for entry in await (await bus.bucket(names.presence)).items():
            node = msgspec.json.decode(entry.value).get("node")
            if node in links:
                links[node] += 1
    finally:
        await bus.close()
    if args.json:
        print_json([{"node": n, "chargers": c} for n, c in links.items()])
        return 0
    table = Table("node", "charger links")
    for node, count in links.items():
        table.add_row(node, str(count))
    Console().print(table if links else f"no live node of cluster {names.cluster!r} on this bus")
    return 0


Answer = tuple[dict[str, Any] | None, dict[str, Any] | None]


async def call(charger_id: str, action: str, payload: dict[str, Any], url: str, name: str) -> Answer:
    """The charger's answer through the node holding its link: (CallResult payload, None) or (None, CallError)."""
    from chargewise.services.cluster import Names, call_through
    from chargewise.services.connections import CallTimeout, ChargerOffline, NotAccepted

    bus = await _open(url)
    try:
        outcome = await call_through(bus, charger_id, action, payload, call_timeout=30.0, names=Names(name))
    except (ChargerOffline, CallTimeout, NotAccepted) as exc:
        raise UsageError(str(exc)) from None
    finally:
        with contextlib.suppress(Exception):
            await bus.close()
    if outcome.ok:
        return outcome.payload, None
    return None, {"code": outcome.error_code, "description": outcome.error_description}


__all__ = ["add_arguments", "call", "cluster", "id_from_key"]
