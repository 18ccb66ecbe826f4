"""Run many simulated chargers against one CSMS URL: plan them (pure, seeded), then drive them.

- :func:`plan` turns a run's options into :class:`ChargerSpec` s: ids ``PREFIX1 .. PREFIXN``, template,
  version, scenario, and the EV visits of a workload mapped onto simulated time. The same seed gives the
  same plan, and every charger draws from its own RNG streams (``{seed}/{charger id}/...``), so the same
  seed gives the same EVs, faults, jitter and transaction ids; only the interleaving with the server's
  answers depends on real timing.
- :class:`Runner` starts one :class:`~.driver.ChargerDriver` per spec on the running event loop (one
  connection per charger), staggers their power-on over ``ramp_s`` and stops them cleanly.

Simulated time starts at the real time of the run and runs ``speed`` times faster; workloads are laid out
from local midnight of that day, and EVs whose stay covers the start are plugged in during the first minute.

Warm start (generated workloads, home and workplace): so that a short run shows charging at any hour, every
connector with no EV due in the first :data:`WARM_START_S` gets one then (energy drawn as the workload's,
staying 3 to 6 hours, gone before that connector's next planned EV). The daily profile follows unchanged:
long runs see the workload's own arrivals (home: evenings) from then on. A replay (acn) is left as recorded.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import msgspec

from chargewise.domain.model import OcppVersion
from chargewise.simulator import transport, workload
from chargewise.simulator.clock import SimClock
from chargewise.simulator.driver import ChargerDriver
from chargewise.simulator.faults import NetworkPath, Scenario, load_scenario
from chargewise.simulator.files import Files
from chargewise.simulator.firmware import Firmware
from chargewise.simulator.templates import Template, load_template
from chargewise.simulator.views import ChargerView

WORKLOADS = ("none", "home", "workplace", "acn")
WARM_START_S = 300.0  # every connector gets an EV within this many simulated seconds (generated workloads)
_WARM_ENERGY = {"home": workload.home_energy_wh, "workplace": workload.workplace_energy_wh}


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerSpec:
    """One charger of a run. ``password`` None uses the template's; "" sends no credentials."""

    charger_id: str
    template: Template
    version: OcppVersion
    scenario: Scenario
    seed: str
    visits: tuple[workload.Visit, ...] = ()
    password: str | None = None
    power_on_at: float = 0.0  # seconds of simulated time after the run starts


@dataclass(frozen=True, kw_only=True, slots=True)
class Summary:
    """What a run did, for the CLI's closing table and for tests."""

    chargers: int
    connected: int
    connects: int
    disconnects: int
    boots: int
    connect_failures: int
    transactions: int
    energy_wh: float
    queued: int
    dropped: int
    errors: int
    failures_by_stage: dict[str, int] = field(default_factory=dict)


def local_midnight(t: float) -> float:
    """POSIX time of local midnight of the day containing ``t``."""
    moment = datetime.fromtimestamp(t).astimezone()
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def sessions_for(
    kind: str, *, rng: random.Random, stations: int, days: int, acn_file: str | None
) -> list[workload.Session]:
    """Workload sessions of ``kind`` (one of :data:`WORKLOADS`)."""
    if kind == "home":
        return workload.generate_home(rng, homes=stations, days=days)
    if kind == "workplace":
        return workload.generate_workplace(rng, stations=stations, days=days)
    if kind == "acn":
        if not acn_file:
            raise ValueError("the acn workload needs --acn-file PATH (an acnportal EventQueue .json.gz)")
        return workload.load_acn(Path(acn_file))
    return []


def place_visits(
    sessions: list[workload.Session],
    *,
    chargers: int,
    connectors: int,
    rng: random.Random,
    start: float,
    origin: float,
    remote_start_share: float = 0.0,
) -> list[workload.Visit]:
    """Place sessions on chargers and move them onto simulated POSIX time from ``origin``. Visits already
    over at ``start`` are left out; visits under way at ``start`` arrive during the first minute."""
    visits, _ = workload.place(
        sessions, chargers=chargers, connectors=connectors, rng=rng, remote_start_share=remote_start_share
    )
    placed = []
    for v in visits:
        arrive, depart = origin + v.arrive_s, origin + v.depart_s
        if depart <= start + 60:
            continue
        if arrive < start:
            arrive = start + 10 + rng.uniform(0, 50)
        placed.append(replace(v, arrive_s=arrive, depart_s=depart))
    return placed


def warm_start(
    visits: list[workload.Visit], *, kind: str, chargers: int, connectors: int, rng: random.Random, start: float
) -> list[workload.Visit]:
    """The warm start's extra visits (module docstring): one EV for each connector that has none arriving by
    ``start + WARM_START_S``; none for a workload that is not generated (``none``, ``acn``)."""
    energy = _WARM_ENERGY.get(kind)
    if energy is None:
        return []
    extra = []
    for charger in range(chargers):
        for connector in range(1, connectors + 1):
            planned = [v.arrive_s for v in visits if v.charger == charger and v.connector == connector]
            first = min(planned, default=None)
            if first is not None and first <= start + WARM_START_S:
                continue  # an EV is there already, or comes within the warm-start window
            arrive = start + rng.uniform(10.0, WARM_START_S)
            depart = arrive + rng.uniform(3.0, 6.0) * workload.HOUR
            if first is not None:
                depart = min(depart, first - 60.0)  # gone before the planned EV comes
            if depart - arrive < 1800.0:
                continue  # the planned EV comes soon enough
            session = workload.Session(station="warm", arrive_s=arrive, depart_s=depart, energy_wh=energy(rng))
            visit = workload.place([session], chargers=1, connectors=1, rng=rng)[0][0]
            extra.append(replace(visit, charger=charger, connector=connector))
    return extra


def plan(
    *,
    chargers: int,
    version: OcppVersion,
    template: str,
    scenario: str | Scenario,
    seed: int,
    id_prefix: str,
    start: float,
    workload_kind: str = "home",
    acn_file: str | None = None,
    days: int = 2,
    ramp_s: float = 0.0,
    password: str | None = None,
) -> list[ChargerSpec]:
    """The chargers of a homogeneous run (``chargewise simulate``)."""
    if chargers < 1:
        raise ValueError("--chargers must be at least 1")
    tpl = load_template(template)
    scen = load_scenario(scenario) if isinstance(scenario, str) else scenario
    rng = random.Random(f"{seed}/plan")
    sessions = sessions_for(workload_kind, rng=rng, stations=chargers, days=days, acn_file=acn_file)
    visits = place_visits(
        sessions, chargers=chargers, connectors=tpl.connectors, rng=rng, start=start, origin=local_midnight(start)
    )
    visits += warm_start(visits, kind=workload_kind, chargers=chargers, connectors=tpl.connectors, rng=rng, start=start)
    by_charger: dict[int, list[workload.Visit]] = {}
    for v in sorted(visits, key=lambda v: v.arrive_s):
        by_charger.setdefault(v.charger, []).append(v)
    return [
        ChargerSpec(
            charger_id=f"{id_prefix}{i + 1}",
            template=tpl,
            version=version,
            scenario=scen,
            seed=f"{seed}/{id_prefix}{i + 1}",
            visits=tuple(by_charger.get(i, ())),
            password=password,
            power_on_at=rng.uniform(0, ramp_s) if ramp_s > 0 else 0.0,
        )
        for i in range(chargers)
    ]


def charger_url(base: str, charger_id: str) -> str:
    return base.rstrip("/") + "/" + charger_id


class Runner:
    """Drives the chargers of ``specs`` against ``url`` on the running loop. ``await start()``, read
    :meth:`views` / :meth:`summary` while it runs, ``await stop()`` at the end."""

    def __init__(
        self,
        specs: list[ChargerSpec],
        *,
        url: str,
        speed: float = 1.0,
        start: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        call_timeout: float | None = None,
    ) -> None:
        self.specs = specs
        self.url = url
        self.speed = speed
        self.start_time = time.time() if start is None else start
        self.ssl_context = ssl_context
        self.call_timeout = call_timeout
        self.drivers: list[ChargerDriver] = []
        self.files = Files()
        self._pending: list[asyncio.Handle] = []
        self.clock: SimClock | None = None

    async def start(self) -> None:
        """Build every charger, then start the simulated clock and power them on (staggered by
        ``power_on_at``). Building first keeps set-up time (schema compilation, 10,000 objects) off the clock."""
        loop = asyncio.get_running_loop()
        self.drivers = [self._driver(spec) for spec in self.specs]
        self.clock = SimClock(start=self.start_time, origin=loop.time(), speed=self.speed)
        for spec, driver in zip(self.specs, self.drivers, strict=True):
            driver.clock = self.clock
            driver.path.rebase(self.start_time + spec.power_on_at)
            if spec.power_on_at > 0:
                when = self.clock.loop_time(self.start_time + spec.power_on_at)
                self._pending.append(loop.call_at(when, driver.start))
            else:
                driver.start()

    def _driver(self, spec: ChargerSpec) -> ChargerDriver:
        path = NetworkPath(spec.scenario, radio=spec.template.radio, seed=spec.seed, start=self.start_time)
        template = spec.template
        if spec.scenario.quirks:
            quirks = msgspec.structs.replace(template.quirks, **spec.scenario.quirks)
            template = msgspec.structs.replace(template, quirks=quirks)
        # a real call timeout of at least 5 s, however fast simulated time runs
        call_timeout = self.call_timeout or max(template.keepalive.call_timeout_s, 5.0 * self.speed)
        fw = Firmware(
            charger_id=spec.charger_id,
            template=template,
            version=spec.version,
            seed=spec.seed,
            radio=path,
            visits=list(spec.visits),
            call_timeout=call_timeout,
        )
        password = template.password if spec.password is None else spec.password
        auth = transport.basic_auth(spec.charger_id, password) if password else None
        return ChargerDriver(
            firmware=fw,
            path=path,
            clock=SimClock(start=self.start_time, origin=0.0, speed=self.speed),  # replaced at start()
            url=charger_url(self.url, spec.charger_id),
            authorization=auth,
            files=self.files,
            ssl_context=self.ssl_context,
        )

    async def stop(self) -> None:
        for handle in self._pending:
            handle.cancel()
        await asyncio.gather(*(d.close() for d in self.drivers))
        await self.files.close()

    def views(self) -> list[ChargerView]:
        return [d.fw.view() for d in self.drivers]

    def errors(self) -> list[tuple[str, BaseException]]:
        return [(d.fw.charger_id, d.error) for d in self.drivers if d.error is not None]

    def summary(self) -> Summary:
        stages: Counter[str] = Counter()
        for d in self.drivers:
            stages.update(d.fw.failures)
        fws = [d.fw for d in self.drivers]
        return Summary(
            chargers=len(fws),
            connected=sum(1 for d in self.drivers if d.conn is not None),
            connects=sum(f.stats["connects"] for f in fws),
            disconnects=sum(f.stats["disconnects"] for f in fws),
            boots=sum(f.stats["boots"] for f in fws),
            connect_failures=sum(f.stats["connect_failures"] for f in fws),
            transactions=sum(f.transactions for f in fws),
            energy_wh=round(sum(c.register_wh for f in fws for c in f.connectors), 1),
            queued=sum(len(f.outbox) for f in fws),
            dropped=sum(f.outbox.dropped for f in fws),
            errors=sum(1 for d in self.drivers if d.error is not None),
            failures_by_stage=dict(stages),
        )
