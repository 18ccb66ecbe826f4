"""REST model of the cluster view (``adapters/http_cluster.py``)."""

from __future__ import annotations

from typing import Any

import msgspec


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
