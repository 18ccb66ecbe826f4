"""What each ``chargewise`` subcommand does (the parser lives in ``cli``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from chargewise.cli import UsageError, load_config, print_json, wait_for_signal
from chargewise.domain.model import IdToken, Registration, TokenStatus
from chargewise.domain.ports import Store

console = Console()


@asynccontextmanager
async def opened_store(args: argparse.Namespace) -> AsyncIterator[Store]:
    from chargewise.adapters.sql import open_store

    _directory, url, _config = load_config(args)
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    store = await open_store(url)
    try:
        yield store
    finally:
        await store.close()


# ---------------------------------------------------------------------- serve
def settings_from(args: argparse.Namespace) -> object:
    from chargewise.adapters.ws_server import LinkSettings
    from chargewise.bootstrap import Settings, TlsSettings
    from chargewise.services.central import Policy, UnknownChargerPolicy
    from chargewise.services.gatekeeper import AuthLimits

    directory, url, config = load_config(args)
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
    policy = Policy(
        unknown_chargers=UnknownChargerPolicy(args.unknown_chargers or server.unknown_chargers),
        heartbeat_interval=server.heartbeat_interval, free_charging=args.free_charging or server.free_charging,
        reap_offline_after=server.reap_offline_after,
    )  # fmt: skip
    return Settings(
        data_dir=directory, db_url=url, host=args.host or server.host,
        ocpp_port=args.ocpp_port if args.ocpp_port is not None else server.ocpp_port,
        http_port=args.http_port if args.http_port is not None else server.http_port,
        policy=policy, link=base, per_charger=per_charger, tls=tls,
        admin_token=os.environ.get("CHARGEWISE_ADMIN_TOKEN"),
        auth=AuthLimits(charger_failures=server.auth_failures_per_charger,
                        address_failures=server.auth_failures_per_address, window=server.auth_failure_window),
    )  # fmt: skip


def fork_workers(args: argparse.Namespace) -> None:
    """Fork ``args.workers - 1`` children before any event loop exists; each returns with its index set.
    The first process (index 0) serves the REST API and stops its children when it stops."""
    import signal

    from chargewise.bootstrap import Settings, admin_token

    settings = settings_from(args)
    assert isinstance(settings, Settings)
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
    from chargewise.bootstrap import Settings, keep_gc_off_the_hot_path, start

    settings = settings_from(args)
    assert isinstance(settings, Settings)
    stop = wait_for_signal()
    worker = getattr(args, "worker_index", 0)
    children: list[int] = getattr(args, "children", [])
    try:
        app = await start(settings, with_http=worker == 0)
    except BaseException:
        _stop_children(children)
        raise
    keep_gc_off_the_hot_path()
    if worker > 0:
        await stop.wait()
        await app.stop()
        return 0
    scheme = "wss" if settings.tls else "ws"
    print(f"chargewise {settings.db_url.split('://')[0]} store: {settings.db_url}")
    print(f"OCPP   {scheme}://{settings.host}:{app.ocpp.port}/ocpp/{{charger_id}}  (ocpp1.6, ocpp2.0.1)")
    http_port = app.http.port if app.http is not None else settings.http_port  # type: ignore[attr-defined]
    print(f"REST   http://{settings.host}:{http_port}/api/v1  (OpenAPI at /openapi.json)")
    if settings.ocpp_port and getattr(args, "children", None):
        print(f"{len(args.children) + 1} worker processes share the OCPP port")
    if app.token_is_new:
        print(f"admin token (shown once; kept in {settings.data_dir / 'admin-token'}): {app.admin_token}")
    try:
        await stop.wait()
    finally:
        print("stopping...")
        await app.stop()
        _stop_children(children)
    return 0


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
    from chargewise.ocpp.leniency import UnknownQuirkError, check_quirks
    from chargewise.services.passwords import check_new_password, hash_password

    async with opened_store(args) as store:
        if args.action == "list":
            table = Table("id", "registration", "ocpp", "connected", "last seen", "offline since", "vendor/model")
            for c in await store.list_chargers():
                model = f"{c.boot.vendor} {c.boot.model}" if c.boot else ""
                table.add_row(c.id, c.registration.value, c.ocpp_version or "", "yes" if c.connected else "no",
                              _when(c.last_seen), _when(c.offline_since), model)  # fmt: skip
            console.print(table)
            return 0
        try:
            if args.action == "add":
                quirks = check_quirks([q for q in args.quirks.split(",") if q])
                password_hash = hash_password(check_new_password(args.password)) if args.password else None
                registration = Registration.PENDING if args.pending else Registration.ACCEPTED
                if args.security_profile in (1, 2) and password_hash is None:
                    raise UsageError(f"security profile {args.security_profile} needs --password")
                await store.add_charger(args.charger_id, registration=registration, password_hash=password_hash,
                                        security_profile=args.security_profile)  # fmt: skip
                if quirks:
                    await store.set_quirks(args.charger_id, quirks)
                print(f"added {args.charger_id} ({registration.value})")
            elif args.action == "approve":
                await store.set_registration(args.charger_id, Registration.ACCEPTED)
                print(f"approved {args.charger_id}: its next BootNotification is accepted")
            elif args.action == "remove":
                if await store.get_charger(args.charger_id) is None:
                    raise KeyError(args.charger_id)
                await store.remove_charger(args.charger_id)
                print(f"removed {args.charger_id}")
            elif args.action == "set-password":
                if args.clear == (args.password is not None):
                    raise UsageError("give either a PASSWORD or --clear")
                if await store.get_charger(args.charger_id) is None:
                    raise KeyError(args.charger_id)
                hashed = None if args.clear else hash_password(check_new_password(args.password))
                await store.set_password_hash(args.charger_id, hashed)
                print(f"password {'cleared' if args.clear else 'set'} for {args.charger_id}")
        except UnknownQuirkError as exc:
            raise UsageError(str(exc)) from None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        except KeyError:
            if args.action == "add":
                raise UsageError(
                    f"charger {args.charger_id!r} exists already (see: chargewise chargers list)"
                ) from None
            raise UsageError(f"no charger {args.charger_id!r} (see: chargewise chargers list)") from None
    return 0


# ---------------------------------------------------------------------- tokens / transactions
async def tokens(args: argparse.Namespace) -> int:
    async with opened_store(args) as store:
        if args.action == "add":
            await store.put_token(IdToken(id_tag=args.id_tag, expires_at=args.expires, parent_id_tag=args.parent))
            print(f"token {args.id_tag} accepted")
        elif args.action == "block":
            try:
                await store.set_token_status(args.id_tag, TokenStatus.BLOCKED)
            except KeyError:
                raise UsageError(f"no token {args.id_tag!r} (see: chargewise tokens list)") from None
            print(f"token {args.id_tag} blocked")
        else:
            table = Table("id tag", "status", "expires", "parent")
            for t in await store.list_tokens():
                table.add_row(t.id_tag, t.status.value, _when(t.expires_at), t.parent_id_tag or "")
            console.print(table)
    return 0


async def transactions(args: argparse.Namespace) -> int:
    async with opened_store(args) as store:
        txs = await store.list_transactions(charger_id=args.charger_id, active=True if args.active else None)
        table = Table("id", "charger", "evse", "id tag", "started", "stopped", "energy kWh", "reason")
        for tx in txs:
            energy = f"{tx.energy_wh / 1000:.3f}" if tx.energy_wh is not None else ""
            table.add_row(str(tx.id), tx.charger_id, str(tx.evse_id), tx.id_tag or "", _when(tx.started_at),
                          _when(tx.stopped_at), energy, tx.stop_reason or "")  # fmt: skip
        console.print(table)
    return 0


# ---------------------------------------------------------------------- call
async def call(args: argparse.Namespace) -> int:
    import aiohttp

    from chargewise.bootstrap import Settings, admin_token

    try:
        payload = json.loads(args.payload)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f'PAYLOAD is not valid JSON ({exc.msg} at column {exc.colno}); quote it: \'{{"type": "Soft"}}\''
        ) from None
    if not isinstance(payload, dict):
        raise UsageError("PAYLOAD must be a JSON object, e.g. '{}'")
    directory, url, _config = load_config(args)
    token, _ = admin_token(Settings(data_dir=directory, db_url=url,
                                    admin_token=os.environ.get("CHARGEWISE_ADMIN_TOKEN")))  # fmt: skip
    base = args.server or os.environ.get("CHARGEWISE_SERVER") or "http://127.0.0.1:8080"
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
    if response.status != 200:
        raise UsageError(answer.get("error", f"HTTP {response.status}"))
    print_json(answer["result"] if answer["error"] is None else {"CallError": answer["error"]})
    return 0 if answer["error"] is None else 1


async def demo(args: argparse.Namespace) -> int:
    from chargewise.demo import run_demo

    return await run_demo(args)


async def simulate(args: argparse.Namespace) -> int:
    from chargewise.simulator import cli as simulator_cli

    return await simulator_cli.run(args)


def _when(moment: object) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else ""  # type: ignore[attr-defined]


COMMANDS: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
    "serve": serve, "demo": demo, "chargers": chargers, "tokens": tokens, "transactions": transactions,
    "call": call, "simulate": simulate,
}  # fmt: skip
