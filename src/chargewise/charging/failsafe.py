"""The failsafe share: what each EVSE may draw with the backend gone, so that the site stays within every
limit even if all EVSEs draw their failsafe at once (see ADR 0005). Pure: the site in, amps per EVSE out.

Each node's smallest per-phase limit (less the margin) is split evenly among the EVSEs below it, and an EVSE
gets the smallest split on its path, at most its maximum. A share under the EVSE's minimum current is 0: a
car cannot be offered less than 6 A (IEC 61851-1), so that EVSE waits for the backend.
"""

from __future__ import annotations

import math
from collections import Counter

from chargewise.charging.site import Site


def failsafe_shares(site: Site, *, margin_a: float = 1.0) -> dict[str, float]:
    below: Counter[str] = Counter()
    for evse_id in site.evses:
        below.update(site.path[evse_id])
    shares: dict[str, float] = {}
    for evse_id, evse in site.evses.items():
        share = evse.max_a
        for node_id in site.path[evse_id]:
            node = site.nodes[node_id]
            limit = min(node.limit_a)
            if node.limit_kw != math.inf:  # a power limit, at the EVSE's voltage on all its phases
                limit = min(limit, node.limit_kw * 1000.0 / (evse.voltage_v * evse.phases))
            if limit != math.inf:
                share = min(share, max(0.0, limit - margin_a) / below[node_id])
        shares[evse_id] = math.floor(share * 10) / 10 if share >= evse.min_a else 0.0
    return shares
