"""Telemetry of chargers linked to other nodes of the cluster, from their events: so that a site's reconcile
loop, run by whichever node holds the site's lease, sees every charger of the site wherever its link is.

A charger linked here is this node's own business: events about it from other nodes are older news (it moved
here since) and are ignored.
"""

from __future__ import annotations

from collections.abc import Container

from chargewise.domain.model import ConnectorStatus
from chargewise.services.events import Event, Kind
from chargewise.services.telemetry import Telemetry


def feed(telemetry: Telemetry, event: Event, linked_here: Container[str]) -> None:
    """Update ``telemetry`` from another node's event (connection, status, meter)."""
    charger = event.charger_id
    if not event.node or charger is None or charger in linked_here:
        return
    data = event.data
    if event.kind is Kind.CONNECTION:
        telemetry.online(charger, bool(data.get("connected")))
    elif event.kind is Kind.STATUS and int(data.get("evse") or 0) > 0:
        try:
            status = ConnectorStatus(str(data.get("status")))
        except ValueError:
            return
        telemetry.status(charger, int(data["evse"]), status, event.at)
    elif event.kind is Kind.METER and data.get("evse") is not None:
        telemetry.reported(charger, int(data["evse"]), event.at, data)
