"""The demo site: two homes and a small workplace, 20 chargers, OCPP 1.6 and 2.0.1 mixed, a few with network
faults, with EVs coming and going. ``chargewise demo`` starts it against its own server:

    site = await start_demo_site("ws://127.0.0.1:9000/ocpp")
    ... site.state() / site.table() for a live view ...
    await site.stop()

So that a newcomer sees charging within a minute at any hour, the demo parks an EV at each home charger
and at about two thirds of the workplace connectors during the first 40 simulated seconds, on top of the
generated home/workplace arrivals (``workload.py``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rich.table import Table

from chargewise.domain.model import OcppVersion
from chargewise.simulator import workload
from chargewise.simulator.faults import load_scenario
from chargewise.simulator.runner import ChargerSpec, Runner, local_midnight, place_visits
from chargewise.simulator.templates import load_template
from chargewise.simulator.views import ChargerView

V16, V201 = OcppVersion.V16, OcppVersion.V201


@dataclass(frozen=True, kw_only=True, slots=True)
class Placement:
    site: str
    name: str
    template: str
    version: OcppVersion
    scenario: str = "healthy"


LAYOUT: tuple[Placement, ...] = (
    # home 1: good Wi-Fi
    Placement(site="home-1", name="home1-flex", template="chargepoint-home-flex", version=V16),
    Placement(site="home-1", name="home1-tesla", template="tesla-wall-connector", version=V201),
    # home 2: a concrete garage (the car blocks the signal) and a mesh network (sticky client)
    Placement(site="home-2", name="home2-juicebox", template="enelx-juicebox", version=V16, scenario="car-in-path"),
    Placement(site="home-2", name="home2-esp32", template="esp32-generic", version=V201, scenario="sticky-mesh"),
    # workplace: dual pedestals on 2.0.1, single ESP32 boxes on 1.6 (one far from the AP)
    *(Placement(site="workplace", name=f"work-dual-{i}", template="dual-ac-15118", version=V201) for i in range(1, 9)),
    *(Placement(site="workplace", name=f"work-esp-{i}", template="esp32-generic", version=V16) for i in range(1, 8)),
    Placement(site="workplace", name="work-esp-8", template="esp32-generic", version=V16, scenario="weak-rssi"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteRow:
    """One charger in the live view."""

    site: str
    charger_id: str
    version: str
    template: str
    scenario: str
    phase: str  # off, offline, booting, accepted, rebooting
    statuses: tuple[str, ...]  # per connector
    power_w: float
    energy_wh: float
    rssi_dbm: int | None


class DemoSite:
    """A running demo site. Read :meth:`state` (or render :meth:`table`) at any time; :meth:`stop` at the end."""

    def __init__(self, runner: Runner, placements: Sequence[tuple[Placement, ChargerSpec]]) -> None:
        self.runner = runner
        self.placements = list(placements)

    def state(self) -> list[SiteRow]:
        rows = []
        for (placement, spec), view in zip(self.placements, self.runner.views(), strict=True):
            rows.append(
                SiteRow(
                    site=placement.site,
                    charger_id=spec.charger_id,
                    version=view.version,
                    template=view.template,
                    scenario=placement.scenario,
                    phase=view.phase,
                    statuses=tuple(c.status for c in view.connectors),
                    power_w=view.power_w,
                    energy_wh=sum(c.energy_wh for c in view.connectors),
                    rssi_dbm=view.rssi_dbm,
                )
            )
        return rows

    def table(self) -> Table:
        rows = self.state()
        total = sum(r.power_w for r in rows) / 1000
        table = Table(title=f"chargewise demo site: {len(rows)} chargers, {total:.1f} kW now")
        for name in ("site", "charger", "OCPP", "template", "network", "link", "status", "kW", "kWh", "RSSI"):
            table.add_column(name, justify="right" if name in ("kW", "kWh", "RSSI") else "left")
        for r in rows:
            table.add_row(
                r.site, r.charger_id, r.version, r.template, r.scenario, r.phase, " ".join(r.statuses),
                f"{r.power_w / 1000:.1f}", f"{r.energy_wh / 1000:.1f}", "" if r.rssi_dbm is None else str(r.rssi_dbm),
            )  # fmt: skip
        return table

    async def stop(self) -> None:
        """Disconnect every charger and release everything (safe to call twice)."""
        await self.runner.stop()


def demo_specs(
    *, seed: int, start: float, id_prefix: str = "", password: str | None = None
) -> list[tuple[Placement, ChargerSpec]]:
    """The demo's chargers and their EV visits (pure; the same seed gives the same site)."""
    rng = random.Random(f"{seed}/demo")
    origin = local_midnight(start)
    out = []
    for index, (site, group) in enumerate(_by_site().items()):
        kind = "workplace" if site == "workplace" else "home"
        templates = [load_template(p.template) for p in group]
        connectors = max(t.connectors for t in templates)
        sessions = workload.generate_workplace(rng, stations=len(group), days=2) if kind == "workplace" else (
            workload.generate_home(rng, homes=len(group), days=2)
        )  # fmt: skip
        visits = place_visits(sessions, chargers=len(group), connectors=connectors, rng=rng, start=start, origin=origin)
        for i, (placement, template) in enumerate(zip(group, templates, strict=True)):
            mine = [v for v in visits if v.charger == i and v.connector <= template.connectors]
            mine += _parked_now(rng, i, template.connectors, start, kind, mine)
            spec = ChargerSpec(
                charger_id=f"{id_prefix}{placement.name}",
                template=template,
                version=placement.version,
                scenario=load_scenario(placement.scenario),
                seed=f"{seed}/{index}/{placement.name}",
                visits=tuple(sorted(mine, key=lambda v: v.arrive_s)),
                password=password,
            )
            out.append((placement, spec))
    return out


def _by_site() -> dict[str, list[Placement]]:
    groups: dict[str, list[Placement]] = {}
    for p in LAYOUT:
        groups.setdefault(p.site, []).append(p)
    return groups


def _parked_now(
    rng: random.Random, charger: int, connectors: int, start: float, kind: str, planned: list[workload.Visit]
) -> list[workload.Visit]:
    """EVs that are there when the demo starts (homes: always; workplace: two thirds of the connectors)."""
    extra = []
    for connector in range(1, connectors + 1):
        busy = any(v.connector == connector and v.arrive_s <= start + 120 for v in planned)
        if busy or (kind == "workplace" and rng.random() > 0.67):
            continue
        session = workload.Session(station="demo", arrive_s=0, depart_s=0, energy_wh=rng.uniform(8_000, 30_000))
        visit = workload.place([session], chargers=1, connectors=1, rng=rng)[0][0]
        stay = rng.uniform(3, 6) * 3600
        arrive = start + rng.uniform(5, 40)
        extra.append(replace(visit, charger=charger, connector=connector, arrive_s=arrive, depart_s=arrive + stay))
    return extra


async def start_demo_site(
    url: str, *, speed: float = 1.0, seed: int = 1, password: str | None = None, id_prefix: str = ""
) -> DemoSite:
    """Start the demo site's 20 chargers against ``url`` (``ws://HOST:PORT/ocpp``; each charger's id is
    appended) and return it running. ``password``: Basic-auth password for every charger (None: each
    template's own; "": none). ``speed`` accelerates simulated time (1: real time)."""
    start = time.time()
    placements = demo_specs(seed=seed, start=start, id_prefix=id_prefix, password=password)
    runner = Runner([spec for _, spec in placements], url=url, speed=speed, start=start)
    await runner.start()
    return DemoSite(runner, placements)


def chargers_table(views: Sequence[ChargerView]) -> Table:
    """A live table of any run's chargers (``chargewise simulate --live``); the first 40 are shown."""
    total = sum(v.power_w for v in views) / 1000
    connected = sum(1 for v in views if v.phase == "accepted")
    table = Table(title=f"{connected}/{len(views)} chargers online, {total:.1f} kW")
    for name in ("charger", "OCPP", "link", "status", "kW", "kWh", "RSSI", "queued"):
        table.add_column(name, justify="right" if name in ("kW", "kWh", "RSSI", "queued") else "left")
    for v in views[:40]:
        table.add_row(
            v.charger_id, v.version, v.phase, " ".join(c.status for c in v.connectors), f"{v.power_w / 1000:.1f}",
            f"{sum(c.energy_wh for c in v.connectors) / 1000:.1f}", "" if v.rssi_dbm is None else str(v.rssi_dbm),
            str(v.queued),
        )  # fmt: skip
    return table
