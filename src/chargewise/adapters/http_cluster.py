"""REST for the cluster: this node, the live nodes, the leases this node holds (which singleton jobs it runs)."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from chargewise.adapters.http_common import ok, problem
from chargewise.services.cluster import Cluster
from chargewise.services.leases import Leases


class ClusterView(msgspec.Struct, kw_only=True):
    cluster: str  # the cluster's name on the bus (serve --cluster)
    node: str  # this node
    nodes: list[str]  # the live nodes, this one included
    leases: list[str]  # the singleton jobs this node runs now ("site:NAME", "reapers", ...)
    chargers_here: int  # charger links this node holds
    chargers_elsewhere: int  # charger links other live nodes hold, as this node knows them
    events_forwarded: int
    events_received: int


ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/cluster", "get", "This node, the live nodes and the singleton jobs (leases) this node runs", None,
     ClusterView, {404: "no cluster (a server built without one)"}),
]  # fmt: skip
CLUSTER: web.AppKey[tuple[Cluster, Leases] | None] = web.AppKey("chargewise-cluster")


async def show(request: web.Request) -> web.Response:
    found = request.app[CLUSTER]
    if found is None:
        return problem(404, "this server runs without a cluster bus", "start it with chargewise serve")
    cluster, leases = found
    return ok(ClusterView(cluster=cluster.names.cluster, node=cluster.node, nodes=await cluster.nodes(),
                          leases=leases.held(),
                          chargers_here=len(cluster.registry), chargers_elsewhere=len(cluster.elsewhere),
                          events_forwarded=cluster.forwarded, events_received=cluster.received))  # fmt: skip


def add_routes(app: web.Application, found: tuple[Cluster, Leases] | None) -> None:
    app[CLUSTER] = found
    app.router.add_get("/api/v1/cluster", show)
