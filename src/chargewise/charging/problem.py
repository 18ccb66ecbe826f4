"""The working rows of one allocation cycle: one per node phase and node power limit in force, with the
capacity left, and the terms an EVSE's current has in them. Internal to :mod:`chargewise.charging.allocate`."""

from __future__ import annotations

import math
from datetime import datetime

from chargewise.charging.fill import Rows
from chargewise.charging.needs import Need
from chargewise.charging.site import PHASES, Caps, Evse, Mode, Site, limits_at
from chargewise.charging.solar import SurplusClock
from chargewise.charging.state import Cause, EvseLimit, Policy

NOMINAL_V = 230.0  # power rows keep margin_a x 230 V x 3 phases free (IEC 60038 low voltage)


class Problem:
    """The working rows and variables of one cycle (internal)."""

    def __init__(self, site: Site, now: datetime, policy: Policy, caps: Caps) -> None:
        self.site, self.now, self.policy = site, now, policy
        self.rows = Rows()
        self.house: tuple[str, tuple[float, float, float]] | None = None  # the meter's other load (node, per phase)
        self.phase_row: dict[tuple[str, int], int] = {}
        self.power_row: dict[str, int] = {}
        for node_id, lim in limits_at(site, now, caps).items():
            for p in range(3):
                if math.isfinite(lim.phase_a[p]):
                    self.phase_row[node_id, p] = self.rows.add(
                        f"{node_id} {PHASES[p]}", lim.phase_a[p] - policy.margin_a
                    )
            if math.isfinite(lim.power_w):
                self.power_row[node_id] = self.rows.add(
                    f"{node_id} power", lim.power_w - policy.margin_a * NOMINAL_V * 3
                )

    def terms(self, evse: Evse, phases: int) -> list[tuple[int, float]]:
        """The rows a current on ``evse`` over ``phases`` phases uses, with its coefficient in each."""
        site_phases = evse.wiring if phases == 3 else evse.wiring[:1]
        out: list[tuple[int, float]] = []
        for node_id in self.site.path[evse.id]:
            out.extend((self.phase_row[node_id, p], 1.0) for p in site_phases if (node_id, p) in self.phase_row)
            if node_id in self.power_row:
                out.append((self.power_row[node_id], evse.voltage_v * phases))
        return out

    def take_phases(self, node_id: str, phase_a: tuple[float, float, float], power_w: float) -> None:
        """Count a fixed load (site phase order) on ``node_id`` and every node above it."""
        for n in self.site.path[node_id]:
            for p in range(3):
                if (n, p) in self.phase_row:
                    self.rows.slack[self.phase_row[n, p]] -= phase_a[p]
            if n in self.power_row:
                self.rows.slack[self.power_row[n]] -= power_w


def to_site(evse: Evse, measured: tuple[float, float, float]) -> tuple[float, float, float]:
    site_a = [0.0, 0.0, 0.0]
    for own, current in enumerate(measured):
        site_a[evse.wiring[own]] += current
    return (site_a[0], site_a[1], site_a[2])


def limit_of(
    evse: Evse, x: float, phases: int, cause: Cause, binding: str, mode: Mode, why: str,
    last: EvseLimit | None, now: datetime, need_: Need | None, surplus: SurplusClock | None = None,
) -> EvseLimit:  # fmt: skip
    """Round down to 0.1 A (what OCPP 1.6 chargingRateUnit A allows in practice) and keep the rotation clock."""
    limit_a = math.floor(x * 10 + 1e-6) / 10 if x > 0 else 0.0
    was_on = last is not None and last.limit_a > 0
    since = last.since if last is not None and was_on == (limit_a > 0) and last.since is not None else now
    kept = last is not None and last.phases == phases and last.phases_since is not None and was_on == (limit_a > 0)
    phases_since = last.phases_since if kept and last is not None else now
    return EvseLimit(evse=evse.id, limit_a=limit_a, phases=phases, limit_w=round(limit_a * evse.voltage_v * phases, 1),
                     cause=cause, binding=binding, mode=mode, reason=why, since=since, phases_since=phases_since,
                     guess=need_.guess if need_ is not None else None, surplus=surplus)  # fmt: skip
