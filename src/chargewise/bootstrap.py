"""The one place that wires everything: store, services, the OCPP port and the HTTP port."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from chargewise import bootstrap_ops
from chargewise.adapters.clock import SystemClock
from chargewise.adapters.http_api import ApiDeps, HttpServer
from chargewise.adapters.http_sites import SiteDeps
from chargewise.adapters.memory_demand import MemoryDemandEvents
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.link_signals import SqlLinkSignalStore
from chargewise.adapters.sql.reports import SqlReportStore
from chargewise.adapters.ws_server import OcppServer, ServerDeps
from chargewise.charging.sitefile import SiteFile
from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Clock, Store
from chargewise.handlers.dispatch import Dispatcher
from chargewise.handlers.v16.routing import routes as v16_routes
from chargewise.handlers.v201.routing import routes as v201_routes
from chargewise.ocpp.schemas import schema_set
from chargewise.services.admin import Admin
from chargewise.services.central import CentralSystem, Policy
from chargewise.services.connections import LinkSettings, Registry
from chargewise.services.demand_response import DemandResponse
from chargewise.services.directory import Directory
from chargewise.services.doctor import Doctor
from chargewise.services.gatekeeper import AuthLimits
from chargewise.services.link_signals import LinkSignals, Retention
from chargewise.services.meter_writer import MeterWriter
from chargewise.services.newcomers import Newcomers
from chargewise.services.profile_applier import ProfileApplier
from chargewise.services.records import Ledger, Records
from chargewise.services.reports import Reports
from chargewise.services.smart_charging import SmartCharging

if TYPE_CHECKING:
    from chargewise.adapters.mdns import Advertiser
    from chargewise.adapters.openadr2 import OpenAdr2Ven, Ven2Settings

log = logging.getLogger(__name__)
DIRECTORY_REFRESH = 2.0  # seconds between checks for charger changes made by other processes
REAP_EVERY = 600.0  # seconds between looks for transactions left open by chargers long offline
SILENT_EVERY = 60.0  # seconds between looks for connected flags that no live link backs (a killed server's)


class StartupError(Exception):
    """The server cannot start as configured; the message is one line saying why and what to change."""


@dataclass(frozen=True, kw_only=True)
class TlsSettings:
    cert: Path
    key: Path
    client_ca: Path | None = None  # enables security profile 3 (client certificates)
    require_client_cert: bool = False


@dataclass(frozen=True, kw_only=True)
class Settings:
    data_dir: Path
    db_url: str
    host: str = "0.0.0.0"
    ocpp_port: int = 9000
    http_port: int = 8080
    policy: Policy = field(default_factory=Policy)
    link: LinkSettings = field(default_factory=LinkSettings)
    per_charger: dict[str, LinkSettings] = field(default_factory=dict)
    tls: TlsSettings | None = None
    admin_token: str | None = None
    share_port: bool = False  # serve --workers: the processes share the OCPP port (SO_REUSEPORT)
    auth: AuthLimits = field(default_factory=AuthLimits)  # failed-password throttling at the OCPP handshake
    doctor: Retention = field(default_factory=Retention)  # link signals kept for the connectivity doctor
    sites: tuple[SiteFile, ...] = ()  # serve --site FILE: sites whose chargers smart charging controls
    openadr2: Ven2Settings | None = None  # serve --openadr2 VTN_URL: a VEN feeding demand-response events
    mdns: bool = False  # serve --mdns: announce the OCPP and REST ports with DNS-SD (adapters/mdns.py)
    ops: bootstrap_ops.OpsSettings = field(default_factory=bootstrap_ops.OpsSettings)  # trace, metrics, MQTT


@dataclass(kw_only=True)
class App:
    settings: Settings
    store: Store
    central: CentralSystem
    directory: Directory
    registry: Registry
    ocpp: OcppServer
    admin: Admin
    admin_token: str
    token_is_new: bool
    http: HttpServer | None = None
    mdns: Advertiser | None = None
    charging: SmartCharging | None = None
    demand: DemandResponse | None = None  # demand-response events (REST now; OpenADR VENs feed the same service)
    ven: OpenAdr2Ven | None = None
    ops: bootstrap_ops.Ops | None = None  # message trace, metrics, doctor sweep, manual limits, MQTT
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        """Close charger links, finish pending writes, close the HTTP port and the store."""
        if self.ven is not None:
            await self.ven.stop()
        if self.mdns is not None:
            await self.mdns.stop()  # goodbyes first: nobody discovers a server that is going away
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.ocpp.stop()
        await self.central.drain()
        if self.http is not None:
            await self.http.stop()
        await self.store.close()


def admin_token(settings: Settings) -> tuple[str, bool]:
    """``$CHARGEWISE_ADMIN_TOKEN``, else the token kept in the data directory, else a new one (returned
    with True so the caller prints it once)."""
    if settings.admin_token:
        return settings.admin_token, False
    path = settings.data_dir / "admin-token"
    if path.exists():
        return path.read_text().strip(), False
    token = secrets.token_urlsafe(24)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token, True


def tls_context(tls: TlsSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert, tls.key)
    if tls.client_ca is not None:
        context.load_verify_locations(tls.client_ca)
        context.verify_mode = ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
    return context


async def start(settings: Settings, *, clock: Clock | None = None, with_http: bool = True) -> App:
    """Open the store, start both ports; the returned :class:`App` must be stopped with ``await app.stop()``."""
    for version in OcppVersion:
        schema_set(version)  # compile every schema now, not on a charger's first message
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(settings.db_url)
    clock = clock or SystemClock()
    central = CentralSystem(store=store, clock=clock, policy=settings.policy, meter_writer=MeterWriter(store))
    central.reports = Reports(store=SqlReportStore(store))
    signals = central.link_signals = LinkSignals(store=SqlLinkSignalStore(store), retention=settings.doctor,
                                                 clock=clock)  # fmt: skip
    directory = Directory()
    # remote starts, EV-connection timeouts; how each command ended (the doctor's server-pacing evidence)
    ops = bootstrap_ops.build(settings.ops)
    registry = Registry(observer=central.transactions.observe_call, outcomes=ops.outcomes(signals.command_ended))
    signals.send = registry.call  # reads and watches a 2.0.1 charger's signal strength after its boot
    admin = Admin(store=store, directory=directory, links=registry)
    chargers = await store.list_chargers()
    await admin.reload(found=chargers)
    for charger in chargers:  # a transaction lost across the restart stops when last heard
        if charger.last_seen is not None:
            central.transactions.presence.recall(charger.id, charger.last_seen)
    policy = settings.policy
    dispatcher = Dispatcher(
        central=central, directory=directory, routes={OcppVersion.V16: v16_routes(), OcppVersion.V201: v201_routes()},
        newcomers=Newcomers(max_pending=policy.max_pending, per_minute=policy.pending_per_minute),
    )  # fmt: skip
    deps = ServerDeps(
        central=central, directory=directory, registry=registry, dispatcher=dispatcher,
        unknown_chargers=policy.unknown_chargers, settings=settings.link, per_charger=settings.per_charger,
        auth=settings.auth, trace=ops.trace, metrics=ops.metrics,
    )  # fmt: skip
    ocpp = OcppServer(
        deps, host=settings.host, port=settings.ocpp_port,
        ssl_context=tls_context(settings.tls) if settings.tls else None, share_port=settings.share_port,
    )  # fmt: skip
    token, new = admin_token(settings)
    app = App(
        settings=settings, store=store, central=central, directory=directory, registry=registry, ocpp=ocpp,
        admin=admin, admin_token=token, token_is_new=new, demand=DemandResponse(MemoryDemandEvents(), {}),
    )  # fmt: skip
    if settings.sites:  # smart charging: one reconcile loop per site, started with the other background jobs
        app.charging = SmartCharging(
            sites=list(settings.sites), telemetry=central.telemetry, store=store, registry=registry,
            applier=ProfileApplier(call=registry.call), clock=clock, demand=app.demand,
        )  # fmt: skip
        central.reports.take_needs = app.charging.take_ev_needs
        app.charging.events = central.events
    app.ops = ops
    ops.wire(central=central, store=store, registry=registry, directory=directory, clock=clock, charging=app.charging)
    try:
        await ocpp.start()
        if with_http:
            sites = SiteDeps(charging=app.charging, demand=app.demand, clock=clock)
            doctor = Doctor(store=store, signals=signals, clock=clock, connected=registry)
            trace, metrics = ops.api(central=central, registry=registry, directory=directory, token=token,
                                     charging=app.charging)  # fmt: skip
            api = ApiDeps(admin=admin, records=Records(store=store), ledger=Ledger(store=store), registry=registry,
                          admin_token=token, sites=sites, doctor=doctor, trace=trace, metrics=metrics)  # fmt: skip
            app.http = HttpServer(api, host=settings.host, port=settings.http_port)
            await app.http.start()
            if settings.mdns:  # only the process with the REST API announces (serve --workers)
                from chargewise.adapters.mdns import advertise

                app.mdns = await advertise(host=settings.host, ocpp_port=ocpp.port, http_port=app.http.port,
                                           secure=settings.tls is not None)  # fmt: skip
        if settings.openadr2 is not None and app.demand is not None:
            from chargewise.adapters.openadr2 import (
                OpenAdr2Error,
                OpenAdr2Ven,  # openleadr is a heavy import: only when asked
            )

            app.ven = OpenAdr2Ven(app.demand, settings.openadr2)
            try:
                await app.ven.start()
            except OpenAdr2Error as exc:
                app.ven = None
                raise StartupError(f"{exc} (check --openadr2 or start without it)") from None
    except BaseException:
        await app.stop()
        raise
    loop = asyncio.get_running_loop()
    app._background = [
        loop.create_task(_refresh_directory(app)),
        loop.create_task(signals.run(clock.now)),
        loop.create_task(_periodically(partial(_reap_offline, app), REAP_EVERY,
                                       "closing transactions of offline chargers", at_start=False)),
        loop.create_task(_periodically(partial(_clear_silent_links, app), SILENT_EVERY,
                                       "recording silent chargers as offline", at_start=True)),
    ]  # fmt: skip
    if app.charging is not None:
        app._background.append(loop.create_task(app.charging.run()))
    app._background += ops.background(loop)
    return app


def keep_gc_off_the_hot_path() -> None:
    """For a server process (``serve``, ``demo``), once, after :func:`start`; not for tests that start many.

    Freeze what start-up built (compiled schemas, SQLAlchemy, modules) out of every later collection, and
    collect the young generation every 100,000 allocations instead of 700: a message's objects live until
    its batch commits, and with the defaults they were promoted and rescanned by full collections of
    200-300 ms every ~0.8 s under MeterValues load (bench: ~40 % of the CPU, and most of the p99 tail)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


async def _periodically(job: Callable[[], Awaitable[None]], every: float, what: str, *, at_start: bool) -> None:
    """Run ``job`` every ``every`` seconds, the first time at once if ``at_start``; a failure is logged and the
    job runs again at its next turn."""
    if not at_start:
        await asyncio.sleep(every)
    while True:
        try:
            await job()
        except Exception:
            log.exception("%s failed; retrying in %.0f s", what, every)
        await asyncio.sleep(every)


async def _reap_offline(app: App) -> None:
    """Close what chargers long silent left open (``CentralSystem.reap_offline``), sparing those with a live
    link here. With ``--workers`` every worker looks; a charger connected to another worker speaks
    (Heartbeats), so its last_seen stays recent."""
    for tx in await app.central.reap_offline(connected=app.registry):
        log.info("transaction %s of %s closed: %s", tx.id, tx.charger_id, tx.stop_reason)


async def _clear_silent_links(app: App) -> None:
    """Flag offline the chargers whose connected flag no live link backs (``CentralSystem.clear_silent_links``):
    after a server was killed, those that never came back. With ``--workers`` every worker looks; a charger
    connected to another worker speaks, so its last_seen stays recent."""
    for charger_id in await app.central.clear_silent_links(connected=app.registry):
        log.info("%s: flagged connected, but no link here and not heard from for %s: recorded as offline",
                 charger_id, app.central.silent_after())  # fmt: skip


async def _refresh_directory(app: App) -> None:
    """Pick up chargers added, approved, demoted or removed by another process (the CLI) on the same store: the
    directory reloads, and links of chargers removed or no longer Accepted are closed (``Admin.reload``)."""
    revision = await app.store.directory_revision()
    while True:
        await asyncio.sleep(DIRECTORY_REFRESH)
        try:
            current = await app.store.directory_revision()
            if current != revision:
                await app.admin.reload()
                revision = current
        except Exception:
            log.exception("directory refresh failed; retrying")
