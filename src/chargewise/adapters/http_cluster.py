"""REST for the cluster: this node, the live nodes, the leases this node holds (which singleton jobs it runs)."""

from __future__ import annotations

from aiohttp import web

from chargewise.adapters.api_cluster_models import ClusterView
from chargewise.adapters.http_common import ok, problem
from chargewise.services.cluster import Cluster
from chargewise.services.leases import Leases

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
