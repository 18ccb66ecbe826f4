"""Limits set outside chargewise (an EMS or the grid operator, reported by a 2.0.1 charger with
NotifyChargingLimit) as caps the allocation keeps, until the charger reports them cleared.

Pure: :func:`capped` takes the caps in force now and returns the site with each charger-wide cap on its charger
node, and the per-EVSE caps (amps per phase) to pass as ``EvseState.cap_a``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

from chargewise.charging.site import Site


@dataclass(frozen=True, kw_only=True, slots=True)
class ExternalCap:
    """At most ``amps`` per phase and/or ``watts`` on ``charger``'s EVSE ``evse`` (0: the charger as a whole),
    set by ``source`` (EMS, SO, CSO, Other)."""

    charger: str
    evse: int
    source: str
    amps: float | None = None
    watts: float | None = None


def capped(site: Site, caps: Iterable[ExternalCap]) -> tuple[Site, dict[str, float]]:
    """The site with charger-wide caps on the charger nodes, and each capped EVSE's limit in amps per phase (a
    cap in watts over the EVSE's phases at its voltage; the lowest of several sources). Caps on chargers or
    EVSEs the site does not have are ignored."""
    per_evse: dict[str, float] = {}
    nodes = dict(site.nodes)
    for cap in caps:
        if cap.evse == 0 and cap.charger in nodes:
            node = nodes[cap.charger]
            amps = cap.amps if cap.amps is not None else math.inf
            limit_a = (min(node.limit_a[0], amps), min(node.limit_a[1], amps), min(node.limit_a[2], amps))
            limit_kw = min(node.limit_kw, cap.watts / 1000.0) if cap.watts is not None else node.limit_kw
            nodes[cap.charger] = dataclasses.replace(node, limit_a=limit_a, limit_kw=limit_kw)
            continue
        evse = site.evses.get(f"{cap.charger}/{cap.evse}")
        if evse is None:
            continue
        amps = math.inf
        if cap.amps is not None:
            amps = cap.amps
        if cap.watts is not None:
            amps = min(amps, cap.watts / (evse.voltage_v * evse.phases))
        per_evse[evse.id] = min(per_evse.get(evse.id, math.inf), max(0.0, amps))
    if nodes == dict(site.nodes):
        return site, per_evse
    return dataclasses.replace(site, nodes=nodes), per_evse
