"""What each ``chargewise`` subcommand does (the parser lives in ``cli``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import msgspec
from rich.console import Console
from rich.table import Table

from chargewise import cli_ops
from chargewise.cli_support import UsageError, load_config, opened_store, print_json, wait_for_signal
from chargewise.domain.model import Registration
from chargewise.services.admin import OFFLINE, Admin, ChargerOverview
from chargewise.services.paging import Listing, parse_limit
from chargewise.services.records import Ledger, Records

if TYPE_CHECKING:
    from chargewise.adapters.openadr2 import Ven2Settings
    from chargewise.bootstrap import App, Settings
    from chargewise.bootstrap_ops import OpsSettings
    from chargewise.charging.sitefile import SiteFile

console = Console()
T = TypeVar("T")


# ---------------------------------------------------------------------- serve
def _sites(paths: list[Path]) -> tuple[SiteFile, ...]:
    """The site files given with ``--site``, parsed; a bad one is a one-line error naming the file."""
    from chargewise.adapters.site_files import read_site_file
    from chargewise.charging.sitefile_values import SiteFileError

    sites = []
    for path in paths:
        try:
            sites.append(read_site_file(path))
        except OSError as exc:
            raise UsageError(f"--site {path}: {exc.strerror or exc}") from None
        except SiteFileError as exc:
            raise UsageError(f"{path}: {exc}") from None
    names = [s.site.name for s in sites]
    if len(set(names)) != len(names):
        raise UsageError(f"--site: two site files use the same [site] name ({names}); give each its own")
    return tuple(sites)


def _ven(args: argparse.Namespace) -> Ven2Settings | None:
    url = getattr(args, "openadr2", None)
    if url is None:
        return None
    if not getattr(args, "site", None):
        raise UsageError("--openadr2 needs --site: demand-response events cap a site's nodes")
    from chargewise.adapters.openadr2 import Ven2Settings

    return Ven2Settings(vtn_url=url, ven_name=args.ven_name, default_node=args.ven_node)


def settings_from(args: argparse.Namespace) -> Settings:
    from chargewise.bootstrap import FirmwareSettings, Settings, TlsSettings
    from chargewise.services.central import Policy, UnknownChargerPolicy
    from chargewise.services.connections import LinkSettings
    from chargewise.services.gatekeeper import AuthLimits
    from chargewise.services.link_signals import Retention

    directory, url, config = load_config(args, use_record=False)  # serve: where it is told, never elsewhere
    server, link = config.server, config.link
    base = LinkSettings(ping_interval=link.ping_interval, ping_timeout=link.ping_timeout,
                        call_timeout=link.call_timeout, max_message_size=link.max_message_size)  # fmt: skip
    per_charger = {
        cid: replace(
            base,
            ping_interval=base.ping_interval if o.ping_interval is None else o.ping_interval,
            ping_timeout=base.ping_timeout if o.ping_timeout is None else o.ping_timeout,
            call_timeout=base.call_timeout if o.call_timeout is None else o.call_timeout,
        )
        for cid, o in config.chargers.items()
    }
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise UsageError("--tls-cert and --tls-key go together")
        for path in (args.tls_cert, args.tls_key, args.tls_client_ca):
            if path is not None and not path.is_file():
                raise UsageError(f"no such file: {path}")
        tls = TlsSettings(cert=args.tls_cert, key=args.tls_key, client_ca=args.tls_client_ca,
                          require_client_cert=args.require_client_cert)  # fmt: skip
    elif args.tls_client_ca:
        raise UsageError("--tls-client-ca needs --tls-cert and --tls-key (client certificates only work over TLS)")
    ca_cert, ca_key = getattr(args, "ca_cert", None), getattr(args, "ca_key", None)
    if (ca_cert is None) != (ca_key is None):
        raise UsageError("--ca-cert and --ca-key go together: give both, or neither for chargewise's own CA")
    http_tls = None
    if args.http_tls_cert or args.http_tls_key:
        if not (args.http_tls_cert and args.http_tls_key):
            raise UsageError("--http-tls-cert and --http-tls-key go together")
        for path in (args.http_tls_cert, args.http_tls_key):
            if not path.is_file():
                raise UsageError(f"no such file: {path}")
        http_tls = TlsSettings(cert=args.http_tls_cert, key=args.http_tls_key)
    policy = Policy(
        unknown_chargers=UnknownChargerPolicy(args.unknown_chargers or server.unknown_chargers),
        heartbeat_interval=server.heartbeat_interval, free_charging=args.free_charging or server.free_charging,
        reap_offline_after=server.reap_offline_after, max_pending=server.max_pending,
        pending_per_minute=server.pending_per_minute,
    )  # fmt: skip
    return Settings(
        data_dir=directory, db_url=url, host=args.host or server.host,
        ocpp_port=args.ocpp_port if args.ocpp_port is not None else server.ocpp_port,
        http_port=args.http_port if args.http_port is not None else server.http_port,
        policy=policy, link=base, per_charger=per_charger, tls=tls, http_tls=http_tls,
        admin_token=os.environ.get("CHARGEWISE_ADMIN_TOKEN"), share_port=getattr(args, "workers", 1) > 1,
        mdns=getattr(args, "mdns", False), sites=_sites(getattr(args, "site", [])), openadr2=_ven(args),
        public_url=getattr(args, "public_url", None),
        ca_cert=ca_cert, ca_key=ca_key,
        bus_url=bus_url(args), node=_node_name(args), cluster=cluster_name(args),
        auth=AuthLimits(charger_failures=server.auth_failures_per_charger,
                        address_failures=server.auth_failures_per_address, window=server.auth_failure_window),
        doctor=Retention(days=config.doctor.retention_days, rows_per_charger=config.doctor.rows_per_charger,
                         flush_every_s=config.doctor.flush_every, watch_radio=config.doctor.watch_radio),
        firmware=FirmwareSettings(base_url=config.firmware.download_url, tick_s=config.firmware.campaign_tick),
        ops=_ops(args),
    )  # fmt: skip


def bus_url(args: argparse.Namespace) -> str | None:
    return getattr(args, "bus", None) or os.environ.get("CHARGEWISE_BUS") or None


def cluster_name(args: argparse.Namespace) -> str:
    from chargewise.services.cluster import DEFAULT_CLUSTER, Names

    name = getattr(args, "cluster", None) or os.environ.get("CHARGEWISE_CLUSTER") or DEFAULT_CLUSTER
    try:
        Names(name)
    except ValueError as exc:
        raise UsageError(f"--cluster: {exc}") from None
    return name


def _node_name(args: argparse.Namespace) -> str | None:
    name = getattr(args, "node", None)
    index = getattr(args, "worker_index", None)
    if getattr(args, "workers", 1) > 1:
        import socket

        return f"{name or socket.gethostname()}-w{index or 0}"
    return name


def _ops(args: argparse.Namespace) -> OpsSettings:
    """serve --mqtt, --metrics-public, --trace-frames (a bad MQTT URL is one line naming the fix)."""
    from chargewise.bootstrap_ops import OpsSettings

    mqtt = None
    if getattr(args, "mqtt", None):
        from chargewise.adapters.mqtt import MqttUrlError, parse_url

        try:
            mqtt = parse_url(args.mqtt)
        except MqttUrlError as exc:
            raise UsageError(str(exc)) from None
    frames = getattr(args, "trace_frames", 50)
    if frames < 0:
        raise UsageError("--trace-frames must be 0 (no trace) or more")
    return OpsSettings(trace_frames=frames, metrics_public=getattr(args, "metrics_public", False), mqtt=mqtt)


def fork_workers(args: argparse.Namespace) -> None:
    """Fork ``args.workers - 1`` children before any event loop exists; each returns with its index set.
    The first process (index 0) serves the REST API and stops its children when it stops."""
    import signal

    from chargewise.bootstrap import admin_token

    if bus_url(args) is None:
        raise UsageError(f"--workers {args.workers} needs --bus nats://HOST:4222: each worker is a node of a "
                         "cluster, and the bus is how REST on any worker reaches every charger")  # fmt: skip
    settings = settings_from(args)
    admin_token(settings)  # create the token file once, before the processes race for it
    args.children = []
    for index in range(1, args.workers):
        pid = os.fork()
        if pid == 0:
            args.worker_index = index
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the first process stops us with SIGTERM
            return
        args.children.append(pid)
    args.worker_index = 0


async def serve(args: argparse.Namespace) -> int:
    from chargewise.bootstrap import keep_gc_off_the_hot_path, start

    settings = settings_from(args)
    stop = wait_for_signal()
    worker = getattr(args, "worker_index", 0)
    children: list[int] = getattr(args, "children", [])
    try:
        app = await start(settings)
    except BaseException:
        _stop_children(children)
        raise
    keep_gc_off_the_hot_path()
    if worker > 0:
        await stop.wait()
        await _drain(app, args)
        await app.stop()
        return 0
    scheme = "wss" if settings.tls else "ws"
    from chargewise.cli_locate import record_server

    reach = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    record_server(settings.data_dir, settings.db_url,
                  f"http://{reach}:{app.http.port if app.http is not None else settings.http_port}")  # fmt: skip
    print(f"chargewise {settings.db_url.split('://')[0]} store: {settings.db_url}")
    print(f"OCPP   {scheme}://{settings.host}:{app.ocpp.port}/ocpp/{{charger_id}}  (ocpp1.6, ocpp2.0.1)")
    http_port = app.http.port if app.http is not None else settings.http_port
    web = "https" if settings.http_tls else "http"
    print(f"REST   {web}://{settings.host}:{http_port}/api/v1  (OpenAPI at /openapi.json)")
    if settings.ops.mqtt is not None:
        print(f"MQTT   {settings.ops.mqtt.host}:{settings.ops.mqtt.port}, topics {settings.ops.mqtt.topics.base}/, "
              f"Home Assistant discovery under {settings.ops.mqtt.topics.discovery}/")  # fmt: skip
    if app.mdns is not None:
        print("mDNS   announced as _ocpp._tcp and _http._tcp (see: chargewise doctor mdns)")
    if settings.ocpp_port and getattr(args, "children", None):
        print(f"{len(args.children) + 1} worker processes share the OCPP port")
    if app.token_is_new:
        print(f"admin token (shown once; kept in {settings.data_dir / 'admin-token'}): {app.admin_token}")
    if app.cluster is not None and settings.bus_url:
        print(f"node   {app.cluster.node} on the bus {settings.bus_url}")
    try:
        await stop.wait()
        print("stopping...")
        await _drain(app, args)
    finally:
        await app.stop()
        _stop_children(children)
    return 0


async def _drain(app: App, args: argparse.Namespace) -> None:
    """SIGTERM: fail the readiness check for ``--drain`` seconds, so a balancer sends no new chargers here;
    then ``app.stop()`` stops accepting, closes links with 1001 (reconnect elsewhere), finishes writes."""
    app.draining = True
    if getattr(args, "drain", 0.0) > 0:
        await asyncio.sleep(args.drain)


def _stop_children(children: list[int]) -> None:
    import signal

    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


# ---------------------------------------------------------------------- chargers
async def chargers(args: argparse.Namespace) -> int:
    """``chargers ACTION``: the admin service on the store; a running server applies the change within 2 s."""
    from chargewise import cli_certs

    if args.action in cli_certs.CHARGER_ACTIONS:  # on the live charger: through the running server
        return await cli_certs.charger_action(args)
    async with opened_store(args, create=args.action == "add") as store:
        admin = Admin(store=store)
        if args.action == "list":
            listing = await admin.chargers(limit=parse_limit(args.limit), cursor=args.cursor)
            if _json_page(args, listing, "charger_view"):
                return 0
            table = Table("id", "registration", "ocpp", "connected", "last seen", "offline since", "vendor/model",
                          "connectors")  # fmt: skip
            for c in listing.items:
                model = f"{c.boot.vendor} {c.boot.model}" if c.boot else ""
                table.add_row(c.id, c.registration.value, c.ocpp_version or "", "yes" if c.connected else "no",
                              _when(c.last_seen), _when(c.offline_since), model, connectors_text(c))  # fmt: skip
            _print_page(table, listing, "chargers")
        elif args.action == "show":
            from chargewise.adapters.api_models import charger_view

            print_json(msgspec.to_builtins(charger_view(await admin.charger(args.charger_id))))
        elif args.action == "add":
            registration = Registration.PENDING if args.pending else Registration.ACCEPTED
            quirks = [q for q in args.quirks.split(",") if q]
            await admin.add(args.charger_id, registration=registration, password=args.password, quirks=quirks,
                            security_profile=args.security_profile)  # fmt: skip
            print(f"added {args.charger_id} ({registration.value})")
        elif args.action in REGISTRATIONS:
            registration, done = REGISTRATIONS[args.action]
            await admin.set_registration(args.charger_id, registration)
            print(f"{args.charger_id} {done}")
        elif args.action == "remove":
            await admin.remove(args.charger_id)
            print(f"removed {args.charger_id}")
        elif args.action == "set-password":
            if args.clear == (args.password is not None):
                raise UsageError("give either a PASSWORD or --clear")
            await admin.set_password(args.charger_id, None if args.clear else args.password)
            print(f"password {'cleared' if args.clear else 'set'} for {args.charger_id} (from its next connection)")
        elif args.action == "set-quirks":
            changed = await admin.set_quirks(args.charger_id, [q for q in args.quirks.split(",") if q])
            print(f"quirks of {args.charger_id}: {', '.join(changed.quirks) or 'none (strict)'}")
    return 0


REGISTRATIONS = {
    "approve": (Registration.ACCEPTED, "approved: its next BootNotification is accepted"),
    "pending": (Registration.PENDING, "is Pending: its next BootNotification is answered Pending"),
    "reject": (Registration.REJECTED, "is Rejected: its next BootNotification is answered Rejected"),
}


def connectors_text(c: ChargerOverview) -> str:
    """``evse/connector status`` for each connector; an offline one also shows what it last reported."""
    return ", ".join(
        f"{r.evse_id}/{r.connector_id} {r.status}" + (f" (last {r.last_status.value})" if r.status == OFFLINE else "")
        for r in c.connectors
    )


# ---------------------------------------------------------------------- tokens / transactions
async def tokens(args: argparse.Namespace) -> int:
    if args.action in ("push", "cache-policy"):  # through the running server: it talks to the chargers
        from chargewise import cli_authorization

        return await cli_authorization.tokens(args)
    async with opened_store(args, create=args.action == "add") as store:
        records = Records(store=store)
        if args.action == "add":
            await records.put_token(args.id_tag, expires_at=args.expires, parent_id_tag=args.parent)
            print(f"token {args.id_tag} accepted")
        elif args.action == "block":
            await records.block_token(args.id_tag)
            print(f"token {args.id_tag} blocked")
        else:
            listing = await records.tokens(limit=parse_limit(args.limit), cursor=args.cursor)
            if _json_page(args, listing, "token_view"):
                return 0
            table = Table("id tag", "status", "expires", "parent")
            for t in listing.items:
                table.add_row(t.id_tag, t.status.value, _when(t.expires_at), t.parent_id_tag or "")
            _print_page(table, listing, "tokens")
    return 0


async def transactions(args: argparse.Namespace) -> int:
    async with opened_store(args) as store:
        listing = await Ledger(store=store).transactions(
            limit=parse_limit(args.limit), cursor=args.cursor, charger_id=args.charger_id,
            active=True if args.active else None,
        )  # fmt: skip
        if _json_page(args, listing, "transaction_view"):
            return 0
        table = Table("id", "charger", "evse", "id tag", "started", "stopped", "energy kWh", "reason")
        for tx in listing.items:
            energy = f"{tx.energy_wh / 1000:.3f}" if tx.energy_wh is not None else ""
            table.add_row(str(tx.id), tx.charger_id, str(tx.evse_id), tx.id_tag or "", _when(tx.started_at),
                          _when(tx.stopped_at), energy, tx.stop_reason or "")  # fmt: skip
        _print_page(table, listing, "transactions")
    return 0


def _json_page(args: argparse.Namespace, listing: Listing[T], view: str) -> bool:
    """``--json``: the page as the REST API renders it (a JSON array); the next page's cursor on stderr."""
    if not getattr(args, "json", False):
        return False
    from chargewise.adapters import api_models

    render = getattr(api_models, view)
    items = [render(item, None) if view == "transaction_view" else render(item) for item in listing.items]
    print_json(msgspec.to_builtins(items))
    if listing.next_cursor is not None:
        print(f"{len(listing.items)} of {listing.total}; next page: --cursor {listing.next_cursor}", file=sys.stderr)
    return True


def _print_page(table: Table, listing: Listing[T], what: str) -> None:
    console.print(table)
    if listing.next_cursor is not None:
        print(f"{len(listing.items)} of {listing.total} {what}; the next page: --cursor {listing.next_cursor}")


# ---------------------------------------------------------------------- call
async def call(args: argparse.Namespace) -> int:
    import aiohttp

    from chargewise.cli_locate import admin_token, server_url

    try:
        payload = json.loads(args.payload)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f'PAYLOAD is not valid JSON ({exc.msg} at column {exc.colno}); quote it: \'{{"type": "Soft"}}\''
        ) from None
    if not isinstance(payload, dict):
        raise UsageError("PAYLOAD must be a JSON object, e.g. '{}'")
    if bus_url(args) is not None:  # straight to the node holding the charger's link, over the bus
        from chargewise import cli_cluster
        from chargewise.ocpp.errors import LocalProtocolError

        try:
            result, error = await cli_cluster.call(args.charger_id, args.ocpp_action, payload, bus_url(args) or "",
                                                   cluster_name(args))  # fmt: skip
        except LocalProtocolError as exc:
            raise UsageError(str(exc)) from None
        print_json(result if error is None else {"CallError": error})
        return 0 if error is None else 1
    directory, _url, _config = load_config(args)
    token = admin_token(directory) or ""  # none: the server's 401 names the fix (never a new token here)
    base = server_url(args.server)
    endpoint = f"{base.rstrip('/')}/api/v1/chargers/{args.charger_id}/calls"
    try:
        async with aiohttp.ClientSession() as http, http.post(
            endpoint, json={"action": args.ocpp_action, "payload": payload},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:  # fmt: skip
            answer = await response.json(content_type=None)
    except aiohttp.ClientError as exc:
        raise UsageError(
            f"cannot reach the server at {base} ({exc}); is `chargewise serve` running? (--server URL)"
        ) from None
    if response.status == 401:
        raise UsageError(f"the server refused the admin token from {directory / 'admin-token'}; point to the "
                         "server's data directory with --data-dir, or set CHARGEWISE_ADMIN_TOKEN")  # fmt: skip
    if response.status != 200:
        raise UsageError(answer.get("error", f"HTTP {response.status}"))
    print_json(answer["result"] if answer["error"] is None else {"CallError": answer["error"]})
    return 0 if answer["error"] is None else 1


async def cluster(args: argparse.Namespace) -> int:
    from chargewise import cli_cluster

    return await cli_cluster.cluster(args, bus_url(args), cluster_name(args))


async def demo(args: argparse.Namespace) -> int:
    from chargewise.demo import run_demo

    return await run_demo(args)


async def simulate(args: argparse.Namespace) -> int:
    from chargewise.simulator import cli as simulator_cli

    return await simulator_cli.run(args)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else ""


async def doctor(args: argparse.Namespace) -> int:
    from chargewise import cli_doctor

    return await cli_doctor.run(args)


async def certs(args: argparse.Namespace) -> int:
    from chargewise import cli_certs

    return await cli_certs.run(args)


async def sites(args: argparse.Namespace) -> int:
    from chargewise import cli_sites

    return await cli_sites.run(args)


async def firmware(args: argparse.Namespace) -> int:
    from chargewise import cli_firmware

    return await cli_firmware.run_firmware(args)


async def campaign(args: argparse.Namespace) -> int:
    from chargewise import cli_firmware

    return await cli_firmware.run_campaign(args)


async def reservations(args: argparse.Namespace) -> int:
    from chargewise import cli_authorization

    return await cli_authorization.reservations(args)


async def logs(args: argparse.Namespace) -> int:
    from chargewise import cli_logs

    return await cli_logs.run(args)


async def api_tokens(args: argparse.Namespace) -> int:
    from chargewise import cli_api_tokens

    return await cli_api_tokens.run(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
    "serve": serve, "demo": demo, "chargers": chargers, "tokens": tokens, "transactions": transactions,
    "call": call, "simulate": simulate, "doctor": doctor, "sites": sites, "firmware": firmware,
    "campaign": campaign, "logs": logs, "reservations": reservations, "certs": certs, "api-tokens": api_tokens,
    "cluster": cluster, **cli_ops.COMMANDS,
}  # fmt: skip
