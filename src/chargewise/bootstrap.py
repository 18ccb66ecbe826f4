"""The one place that wires everything: store, services, the OCPP port and the HTTP port."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from chargewise import bootstrap_ops
from chargewise.adapters.ca_files import CaError, ca_paths, open_authority
from chargewise.adapters.clock import SystemClock
from chargewise.adapters.firmware_files import ImageFiles
from chargewise.adapters.http_api import ApiDeps, HttpServer
from chargewise.adapters.http_certs import CertDeps
from chargewise.adapters.http_firmware import FirmwareDeps, linker
from chargewise.adapters.http_sites import SiteDeps
from chargewise.adapters.log_files import FileLogArchive
from chargewise.adapters.memory_bus import MemoryBus
from chargewise.adapters.memory_demand import MemoryDemandEvents
from chargewise.adapters.price_feeds import PriceFeeds
from chargewise.adapters.site_files import with_tariff
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.api_clients import SqlApiClientStore
from chargewise.adapters.sql.firmware import SqlFirmwareStore
from chargewise.adapters.sql.fleet import SqlFleetStore
from chargewise.adapters.sql.link_signals import SqlLinkSignalStore
from chargewise.adapters.sql.reports import SqlReportStore
from chargewise.adapters.sql.site_settings import SqlSiteSettingStore
from chargewise.adapters.sql.store import SqlStore
from chargewise.adapters.webhook_sender import WebhookSender
from chargewise.adapters.ws_server import OcppServer, ServerDeps
from chargewise.charging.sitefile import SiteFile, parse_data
from chargewise.domain.bus import Bus, BusError
from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Clock, Store
from chargewise.fleet.retention import Retention as LogRetention
from chargewise.handlers.dispatch import Dispatcher
from chargewise.handlers.v16.routing import routes as v16_routes
from chargewise.handlers.v201.routing import routes as v201_routes
from chargewise.ocpp.schemas import schema_set
from chargewise.security.authority import Authority
from chargewise.services import remote_telemetry
from chargewise.services.admin import Admin
from chargewise.services.api_tokens import ApiTokens
from chargewise.services.artifacts import Artifacts
from chargewise.services.campaigns import Campaigns
from chargewise.services.central import CentralSystem, Policy
from chargewise.services.certificates import Certificates
from chargewise.services.cluster import DEFAULT_CLUSTER, Cluster, Names
from chargewise.services.connections import LinkSettings, Registry
from chargewise.services.credentials import CredentialChanges
from chargewise.services.deliveries import Backoff
from chargewise.services.demand_response import DemandResponse
from chargewise.services.directory import Directory
from chargewise.services.doctor import Doctor
from chargewise.services.gatekeeper import AuthLimits
from chargewise.services.jobs import Jobs
from chargewise.services.leases import Leases
from chargewise.services.link_signals import LinkSignals, Retention
from chargewise.services.local_lists import LocalLists
from chargewise.services.log_uploads import LogUploads
from chargewise.services.meter_writer import MeterWriter
from chargewise.services.newcomers import Newcomers
from chargewise.services.profile_applier import ProfileApplier
from chargewise.services.records import Ledger, Records
from chargewise.services.reports import Reports
from chargewise.services.reservations import Reservations
from chargewise.services.site_settings import SiteSettings
from chargewise.services.smart_charging import SmartCharging
from chargewise.services.webhooks import Webhooks

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
class FirmwareSettings:
    base_url: str | None = None  # how chargers reach the HTTP port for downloads (default http://HOST:HTTP_PORT)
    tick_s: float = 5.0  # seconds between turns of the OTA campaign loop


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
    firmware: FirmwareSettings = field(default_factory=FirmwareSettings)  # OTA campaigns and image downloads
    public_url: str | None = None  # serve --public-url: where chargers reach the HTTP port (log upload URLs)
    logs: LogRetention = field(default_factory=LogRetention)  # uploaded logs kept, and the size limit
    local_list_every: float = 30.0  # s between checks that every connected charger's local list is up to date
    local_lists_everywhere: bool = False  # push local lists to every charger, not only to those pushed to once
    ca_cert: Path | None = None  # serve --ca-cert/--ca-key: sign chargers' CSRs with this CA (default: our own)
    ca_key: Path | None = None
    http_tls: TlsSettings | None = None  # serve --http-tls-cert/--http-tls-key: the REST port serves HTTPS
    webhook_backoff: Backoff = field(default_factory=Backoff)  # retries of webhooks and job callbacks
    bus_url: str | None = None  # serve --bus nats://HOST:PORT: join a cluster (None: the in-process bus, one node)
    node: str | None = None  # this node's name in the cluster (default: host name and process id)
    cluster: str = DEFAULT_CLUSTER  # serve --cluster NAME: clusters sharing one NATS server stay apart
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
    price_feeds: PriceFeeds | None = None  # the sites' [tariff] feed, fetched into their plans
    demand: DemandResponse | None = None  # demand-response events (REST now; OpenADR VENs feed the same service)
    ven: OpenAdr2Ven | None = None
    campaigns: Campaigns | None = None  # OTA campaigns (in the process serving the REST API)
    local_lists: LocalLists | None = None  # local authorization lists pushed from the token store
    certificates: Certificates | None = None  # chargers' CSRs and installed certificates (services/certificates.py)
    credentials: CredentialChanges | None = None  # password rotation, security profile raise
    webhooks: Webhooks | None = None  # outgoing webhooks (REST /api/v1/webhooks), fed by central.events
    jobs: Jobs | None = None  # asynchronous commands (REST /api/v1/jobs)
    sender: WebhookSender | None = None
    bus: Bus | None = None
    cluster: Cluster | None = None
    leases: Leases | None = None
    draining: bool = False  # SIGTERM: the readiness check fails while links close (services.cluster)
    ops: bootstrap_ops.Ops | None = None  # message trace, metrics, doctor sweep, manual limits, MQTT
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        """Close charger links, finish pending writes, close the HTTP port and the store."""
        if self.ven is not None:
            await self.ven.stop()
        if self.mdns is not None:
            await self.mdns.stop()  # goodbyes first: nobody discovers a server that is going away
        if self.leases is not None:
            with contextlib.suppress(Exception):
                await self.leases.release()  # other nodes take this node's singleton jobs over at once
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.ocpp.stop()
        for changes in (self.certificates, self.credentials):
            if changes is not None:
                await changes.drain()
        await self.central.drain()
        if self.cluster is not None:
            await self.cluster.stop()
        if self.bus is not None:
            await self.bus.close()
        if self.http is not None:
            await self.http.stop()
        if self.webhooks is not None:
            await self.webhooks.stop()
        if self.jobs is not None:
            await self.jobs.stop()
        if self.sender is not None:
            await self.sender.close()
        await self.store.close()

    def ready(self) -> bool:
        """Whether a load balancer may send chargers here: not draining, and the bus is up."""
        return not self.draining and (self.bus is None or self.bus.healthy())


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


def upload_key(data_dir: Path) -> bytes:
    """The key that signs log upload URLs, kept in the data directory (made once, private)."""
    path = data_dir / "upload-key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n")
        path.chmod(0o600)
    return bytes.fromhex(path.read_text().strip())


def _log_uploads(settings: Settings, registry: Registry, clock: Clock) -> LogUploads:
    def version_of(charger_id: str) -> OcppVersion | None:
        link = registry.get(charger_id)
        return None if link is None else link.version

    return LogUploads(archive=FileLogArchive(settings.data_dir / "logs"), call=registry.call, version_of=version_of,
                      clock=clock, key=upload_key(settings.data_dir), base_url="", retention=settings.logs)  # fmt: skip


def _authorization(settings: Settings, store: Store, registry: Registry,
                   clock: Clock) -> tuple[LocalLists, Reservations]:  # fmt: skip
    """Local lists pushed from the token store, and reservations, over the server's database."""
    assert isinstance(store, SqlStore)
    fleet = SqlFleetStore(store)

    def connected() -> list[tuple[str, OcppVersion]]:
        return [(link.charger_id, link.version) for link in registry.links()]

    def version_of(charger_id: str) -> OcppVersion | None:
        link = registry.get(charger_id)
        return None if link is None else link.version

    async def evses(charger_id: str) -> list[int]:
        charger = await store.get_charger(charger_id)
        return sorted({c.evse_id for c in charger.connectors if c.evse_id > 0}) if charger else []

    lists = LocalLists(store=fleet, tokens=store, call=registry.call, connected=connected, clock=clock,
                       every=settings.local_list_every, everyone=settings.local_lists_everywhere)  # fmt: skip
    return lists, Reservations(store=fleet, call=registry.call, version_of=version_of, clock=clock, evses=evses)


def _http_url(host: str, port: int, *, secure: bool = False) -> str:
    """Where chargers reach the HTTP port when no --public-url says: the listening address, or this host's
    name when it listens on every address."""
    import socket

    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    return f"{'https' if secure else 'http'}://{f'[{host}]' if ':' in host else host}:{port}"


def tls_context(tls: TlsSettings, csms_ca: Path | None = None) -> ssl.SSLContext:
    """``csms_ca``: the CA that signs chargers' CSRs, trusted for client certificates beside ``client_ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert, tls.key)
    for ca in (tls.client_ca, csms_ca):
        if ca is not None:
            context.load_verify_locations(ca)
            context.verify_mode = ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
    return context


def csms_authority(settings: Settings, clock: Clock) -> tuple[Callable[[], Authority], Path | None]:
    """The CA that signs chargers' CSRs, opened on first use (made in ``<data_dir>/ca`` if need be), and with
    TLS on its certificate file, opened now: client certificates it signed are trusted on the OCPP port."""
    opened: list[Authority] = []

    def authority() -> Authority:
        if not opened:
            opened.append(open_authority(settings.data_dir, clock.now(), cert=settings.ca_cert, key=settings.ca_key))
        return opened[0]

    if settings.tls is None:
        return authority, None
    try:
        authority()
    except CaError as exc:
        raise StartupError(str(exc)) from None
    return authority, settings.ca_cert or ca_paths(settings.data_dir)[0]


async def start(settings: Settings, *, clock: Clock | None = None, with_http: bool = True,
                bus: Bus | None = None) -> App:  # fmt: skip
    """Open the store, start both ports; the returned :class:`App` must be stopped with ``await app.stop()``.
    ``bus``: a bus to join instead of the one ``settings.bus_url`` names (tests: nodes of one process)."""
    for version in OcppVersion:
        schema_set(version)  # compile every schema now, not on a charger's first message
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    authority, csms_ca = csms_authority(settings, clock)  # before the store: a bad CA file stops nothing open
    store = await open_store(settings.db_url)
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
    app_lists, central.reservations = _authorization(settings, store, registry, clock)
    central.on_online.append(lambda charger_id, booted: app_lists.poke(charger_id, booted=booted))
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
        ssl_context=tls_context(settings.tls, csms_ca) if settings.tls else None, share_port=settings.share_port,
    )  # fmt: skip
    token, new = admin_token(settings)
    app = App(
        settings=settings, store=store, central=central, directory=directory, registry=registry, ocpp=ocpp,
        admin=admin, admin_token=token, token_is_new=new, demand=DemandResponse(MemoryDemandEvents(), {}),
        local_lists=app_lists,
    )  # fmt: skip
    try:
        app.bus = bus or await _connect_bus(settings)
    except BusError as exc:
        await store.close()
        raise StartupError(f"{exc} (start it, or serve without --bus for a single node)") from None
    node = settings.node or f"{socket.gethostname()}-{os.getpid()}"
    names = Names(settings.cluster)
    app.cluster = Cluster(bus=app.bus, node=node, registry=registry, events=central.events, now=clock.now,
                          call_timeout=settings.link.call_timeout, names=names)  # fmt: skip
    app.cluster.on_remote = partial(remote_telemetry.feed, central.telemetry, linked_here=registry)
    app.leases = Leases(app.bus, node, bucket=names.leases)
    app.leases.want("reapers")  # closing abandoned transactions and silent links: one node at a time
    app.certificates = central.certificates = Certificates(authority=authority, registry=registry, clock=clock)
    app.credentials = CredentialChanges(
        store=store,
        directory=directory,
        registry=registry,
        tls=settings.tls is not None,
        client_certificates=settings.tls is not None,
    )
    directory.credentials_seen = app.credentials.seen  # connections that move a credential change on
    # smart charging: one reconcile loop per site (--site, or PUT /api/v1/sites/{name}), with the other jobs
    app.charging = SmartCharging(
        sites=list(settings.sites), telemetry=central.telemetry, store=store, registry=registry,
        applier=ProfileApplier(call=registry.call), clock=clock, demand=app.demand, limits=central.reports.store,
    )  # fmt: skip
    keeper = SiteSettings(SqlSiteSettingStore(store), clock, lambda raw: with_tariff(parse_data(raw), Path.cwd()))
    app.charging.keeper = keeper
    await keeper.restore(app.charging)  # sites put through REST, told needs, modes and caps: before any cycle
    central.reports.take_needs = app.charging.take_ev_needs
    central.reports.on_limit = app.charging.poke  # NotifyChargingLimit / Cleared: the site's next cycle, now
    app.charging.events = central.events
    leases = app.leases
    for site_name in app.charging.sites:
        leases.want(f"site:{site_name}")
    app.charging.gate = lambda name: leases.wanted(f"site:{name}")  # a site PUT later is wanted at its first cycle
    app.charging.remote_version = app.cluster.version_elsewhere
    app.ops = ops
    ops.wire(central=central, store=store, registry=registry, directory=directory, clock=clock, charging=app.charging)
    try:
        await app.cluster.start()
        await app.leases.refresh()  # take what is free now: a lone node runs its sites from its first second
        await ocpp.start()
        if with_http:
            sites = SiteDeps(charging=app.charging, demand=app.demand, clock=clock)
            doctor = Doctor(store=store, signals=signals, clock=clock, connected=registry)
            firmware = _firmware(app, clock)
            central.log_uploads = logs = _log_uploads(settings, registry, clock)
            clients, app.sender = SqlApiClientStore(store), WebhookSender()
            app.webhooks = Webhooks(store=clients, hub=central.events, post=app.sender.post, now=clock.now,
                                    backoff=settings.webhook_backoff)  # fmt: skip
            await app.webhooks.start()
            app.jobs = Jobs(call=registry.call, post=app.sender.post, now=clock.now, backoff=settings.webhook_backoff)
            trace, metrics = ops.api(central=central, registry=registry, directory=directory, token=token,
                                     charging=app.charging)  # fmt: skip
            api = ApiDeps(admin=admin, records=Records(store=store), ledger=Ledger(store=store), registry=registry,
                          admin_token=token, sites=sites, doctor=doctor, firmware=firmware,
                          events=central.events, logs=logs, local_lists=app_lists, reservations=central.reservations,
                          certs=CertDeps(certificates=app.certificates, credentials=app.credentials),
                          webhooks=app.webhooks, jobs=app.jobs,
                          tokens=ApiTokens(store=clients, now=clock.now, admin_token=token), ready=app.ready,
                          cluster=(app.cluster, app.leases), trace=trace, metrics=metrics)  # fmt: skip
            http_tls = tls_context(settings.http_tls) if settings.http_tls else None
            app.http = HttpServer(
                api, host=settings.host, port=settings.http_port, ssl_context=http_tls, share_port=settings.share_port
            )
            await app.http.start()
            host = settings.host if settings.host not in ("0.0.0.0", "::", "") else socket.gethostname()
            web = "https" if settings.http_tls else "http"
            base = settings.firmware.base_url or f"{web}://{host}:{app.http.port}"
            firmware.campaigns.link = linker(base, firmware.key)  # download URLs name the port just bound
            firmware.campaigns.gate = lambda: leases.wanted("campaigns")  # one node sends the updates
            secure = settings.http_tls is not None
            logs.base_url = settings.public_url or _http_url(settings.host, app.http.port, secure=secure)
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
        loop.create_task(app.cluster.run()),
        loop.create_task(app.leases.run()),
        loop.create_task(signals.run(clock.now)),
        loop.create_task(_periodically(partial(_reap_offline, app), REAP_EVERY,
                                       "closing transactions of offline chargers", at_start=False)),
        loop.create_task(_periodically(partial(_clear_silent_links, app), SILENT_EVERY,
                                       "recording silent chargers as offline", at_start=True)),
    ]  # fmt: skip
    if app.charging is not None:
        app._background.append(loop.create_task(app.charging.run()))
        app.price_feeds = PriceFeeds(charging=app.charging, clock=clock)  # sites with a [tariff] feed
        app._background.append(loop.create_task(app.price_feeds.run()))
    if app.campaigns is not None:
        app._background.append(loop.create_task(app.campaigns.run()))
    app._background.append(loop.create_task(app_lists.run()))
    app._background += ops.background(loop)
    return app


def _firmware(app: App, clock: Clock) -> FirmwareDeps:
    """Artifacts, downloads and OTA campaigns; the campaigns hear the chargers' firmware statuses and boots."""
    settings = app.settings
    files = ImageFiles(settings.data_dir)
    store = SqlFirmwareStore(app.store)  # type: ignore[arg-type]  # open_store's SqlStore
    members = {e.charger: (s.site.name,) for s in settings.sites for e in s.site.evses.values()}
    app.campaigns = Campaigns(store=store, chargers=app.store, clock=clock, commands=app.registry, sites=members,
                              tick_s=settings.firmware.tick_s)  # fmt: skip
    app.central.firmware = app.campaigns
    return FirmwareDeps(artifacts=Artifacts(store=store, files=files, clock=clock), campaigns=app.campaigns,
                        files=files, key=files.link_key(), clock=clock)  # fmt: skip


async def _connect_bus(settings: Settings) -> Bus:
    """The bus ``--bus`` names (NATS), else the in-process one (a single node: nothing to install)."""
    if settings.bus_url is None:
        return MemoryBus()
    if not settings.bus_url.startswith(("nats://", "tls://")):
        raise BusError(f"--bus {settings.bus_url!r} is not a NATS URL (nats://HOST:PORT)")
    from chargewise.adapters.nats_bus import connect  # nats-py only when a cluster is asked for

    return await connect(settings.bus_url, name=settings.node or socket.gethostname())


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
    if app.leases is not None and not app.leases.holds("reapers"):
        return  # another node of the cluster runs the reapers
    for tx in await app.central.reap_offline(connected=app.registry):
        log.info("transaction %s of %s closed: %s", tx.id, tx.charger_id, tx.stop_reason)


async def _clear_silent_links(app: App) -> None:
    """Flag offline the chargers whose connected flag no live link backs (``CentralSystem.clear_silent_links``):
    after a server was killed, those that never came back. With ``--workers`` every worker looks; a charger
    connected to another worker speaks, so its last_seen stays recent."""
    if app.leases is not None and not app.leases.holds("reapers"):
        return
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
