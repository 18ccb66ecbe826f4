"""The ``chargewise`` command. Every error is one line saying what is wrong and how to fix it, exit code 2."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from chargewise import __version__
from chargewise.cli_support import UsageError
from chargewise.config import ConfigError
from chargewise.services.admin_errors import AdminError


# ---------------------------------------------------------------------- parser
class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that names the fix, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="chargewise", description="OCPP 1.6J / 2.0.1 central system")
    parser.add_argument("--version", action="version", version=f"chargewise {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the central system (OCPP WebSocket port + REST API)")
    _store_options(serve)
    _server_options(serve)

    demo = sub.add_parser("demo", help="serve on SQLite with a simulated site of ~20 chargers")
    _store_options(demo)
    demo.add_argument("--ocpp-port", type=_port, default=9000)
    demo.add_argument("--http-port", type=_port, default=8080)
    demo.add_argument("--duration", type=float, default=None, help="stop after N seconds (default: until Ctrl-C)")
    demo.add_argument("--no-ota", action="store_true", help="leave out the firmware campaign on two chargers")

    chargers = sub.add_parser("chargers", help="list, add, approve, reject, remove chargers, set passwords, quirks")
    csub = chargers.add_subparsers(dest="action", required=True, metavar="ACTION")
    _store_options(_page_options(csub.add_parser("list", help="known chargers, a page at a time")))
    add = csub.add_parser("add", help="add a charger (Accepted unless --pending)")
    add.add_argument("charger_id")
    add.add_argument("--password", help="HTTP Basic password (16-40 chars) for security profile 1/2")
    add.add_argument("--pending", action="store_true", help="add as Pending instead of Accepted")
    add.add_argument("--security-profile", type=int, choices=(1, 2, 3),
                     help="admit only so: 1 password, 2 TLS + password, 3 TLS client certificate (CN=id)")  # fmt: skip
    add.add_argument("--quirks", default="", help="comma-separated schema deviations to accept (see README)")
    _store_options(add)
    for name, text in (
        ("show", "one charger with its connectors"),
        ("approve", "accept a charger: its next BootNotification is Accepted"),
        ("pending", "put a charger back to Pending (a connected one is disconnected)"),
        ("reject", "reject a charger (a connected one is disconnected)"),
        ("remove", "forget a charger (its transactions stay)"),
    ):
        p = csub.add_parser(name, help=text)
        p.add_argument("charger_id")
        _store_options(p)
    pw = csub.add_parser("set-password", help="set (or with --clear remove) a charger's Basic-auth password")
    pw.add_argument("charger_id")
    pw.add_argument("password", nargs="?")
    pw.add_argument("--clear", action="store_true")
    _store_options(pw)
    qs = csub.add_parser("set-quirks", help="replace the schema deviations accepted from a charger")
    qs.add_argument("charger_id")
    qs.add_argument("quirks", help="comma-separated (see README); '' for none (strict)")
    _store_options(qs)
    from chargewise import cli_certs

    cli_certs.add_charger_actions(csub)  # rotate-password, security-profile (through the running server)
    cli_certs.add_arguments(sub.add_parser("certs", help="charger certificates: ca, list, install, delete, renew"))

    tokens = sub.add_parser("tokens", help="id tokens (RFID cards, app tokens)")
    tsub = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    tadd = tsub.add_parser("add", help="add or replace an accepted token")
    tadd.add_argument("id_tag")
    tadd.add_argument("--expires", type=_datetime, help="expiry, ISO 8601 (e.g. 2027-01-01T00:00:00Z)")
    tadd.add_argument("--parent", help="parent / group id tag")
    _store_options(tadd)
    _store_options(_page_options(tsub.add_parser("list", help="tokens, a page at a time")))
    block = tsub.add_parser("block", help="block a token")
    block.add_argument("id_tag")
    _store_options(block)
    from chargewise import cli_authorization

    cli_authorization.add_token_arguments(tsub, _store_options)
    cli_authorization.add_arguments(sub.add_parser("reservations", help="reserve EVSEs for tokens, cancel"),
                                    _store_options)  # fmt: skip

    txs = sub.add_parser("transactions", help="charging transactions")
    xsub = txs.add_subparsers(dest="action", required=True, metavar="ACTION")
    xlist = xsub.add_parser("list", help="newest first")
    xlist.add_argument("--charger", dest="charger_id")
    xlist.add_argument("--active", action="store_true", help="only transactions still running")
    _store_options(_page_options(xlist))

    call = sub.add_parser("call", help="send an OCPP command to a connected charger and print its answer")
    call.add_argument("charger_id")
    call.add_argument("ocpp_action", metavar="ACTION", help="e.g. Reset, RemoteStartTransaction, GetVariables")
    call.add_argument("payload", nargs="?", default="{}", help="JSON payload (default {})")
    call.add_argument(
        "--server", default=None, help="REST base URL of the running server (default http://127.0.0.1:8080)"
    )
    _store_options(call)

    from chargewise import cli_cluster, cli_doctor, cli_logs, cli_sites
    from chargewise.simulator import cli as simulator_cli

    cli_doctor.add_arguments(
        sub.add_parser("doctor", help="why a charger is offline or flaky: explain, audit, rf, probe, mdns")
    )

    cli_sites.add_arguments(sub.add_parser("sites", help="smart-charging sites: check, show, allocate, plan"),
                            _store_options)
    cli_cluster.add_arguments(sub.add_parser("cluster", help="the cluster over --bus: its live nodes"))

    from chargewise import cli_firmware

    cli_firmware.add_arguments(sub.add_parser("firmware", help="firmware images the server serves to chargers"),
                               sub.add_parser("campaign", help="staged OTA firmware campaigns"), _store_options)
    from chargewise import cli_api_tokens

    cli_api_tokens.add_arguments(
        sub.add_parser("api-tokens", help="REST bearer tokens with a role: create, list, revoke"), _store_options
    )
    from chargewise import cli_ops

    cli_ops.add_arguments(sub, _store_options)  # status, trace, completion
    parser.set_defaults(root_parser=parser)  # for `completion`: the whole tree, without importing cli back

    simulator_cli.add_arguments(sub.add_parser("simulate", help="simulated chargers against any CSMS URL"))
    cli_logs.add_arguments(sub.add_parser("logs", help="charger logs: request an upload, list, get"), _store_options)
    return parser


def _page_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--limit", help="rows per page, 1 to 1000 (default 100)")
    p.add_argument("--cursor", help="the page after the one that printed this cursor")
    p.add_argument("--json", action="store_true", help="print the page as JSON (the REST API's rendering)")
    return p


def _store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="data directory (default $CHARGEWISE_DATA_DIR, ./data, or the running "
                   "server's, as it recorded in ~/.local/state/chargewise/server.json)")
    p.add_argument("--db", help="database URL (default $CHARGEWISE_DB or SQLite in the data directory)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (serve -vv: trace every OCPP frame)")
    p.add_argument("--bus", help="cluster bus, nats://HOST:PORT (default $CHARGEWISE_BUS; none: a single node)")
    p.add_argument("--cluster", help="the cluster's name on the bus (default $CHARGEWISE_CLUSTER or main)")


def _server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML config file (default DATA_DIR/chargewise.toml if present)")
    p.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--ocpp-port", type=_port, help="OCPP WebSocket port (default 9000)")
    p.add_argument("--http-port", type=_port, help="REST API port (default 8080)")
    p.add_argument("--unknown-chargers", choices=["accept", "pending", "reject"], help="policy (default pending)")
    p.add_argument("--free-charging", action="store_true", help="accept any id tag (homes)")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate chain: serve wss:// (security profile 2/3)")
    p.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert")
    p.add_argument("--tls-client-ca", type=Path, help="CA for charger client certificates (security profile 3)")
    p.add_argument("--require-client-cert", action="store_true", help="refuse chargers without a client cert")
    p.add_argument("--ca-cert", type=Path, help="CA certificate that signs chargers' CSRs (default: DATA_DIR/ca, made)")
    p.add_argument("--ca-key", type=Path, help="unencrypted PEM key of --ca-cert")
    p.add_argument("--http-tls-cert", type=Path, help="PEM certificate chain: serve the REST API over HTTPS")
    p.add_argument("--http-tls-key", type=Path, help="PEM private key for --http-tls-cert")
    p.add_argument(
        "--site", action="append", type=Path, default=[], metavar="SITE_FILE",
        help="control the chargers of this site file (limits, load balancing; see docs/sites.md); repeatable",
    )  # fmt: skip
    p.add_argument("--openadr2", metavar="VTN_URL", help="take demand-response events from this OpenADR 2.0b VTN")
    p.add_argument("--ven-name", default="chargewise", help="this server's VEN name at the VTN (default chargewise)")
    p.add_argument("--ven-node", metavar="NODE", help="site node for events that name no resource (default: none)")
    p.add_argument("--public-url", metavar="URL", help="where chargers reach the REST port, for log upload URLs "
                   "(default http://HOST:HTTP_PORT)")  # fmt: skip
    p.add_argument("--mdns", action="store_true", help="announce the server on the LAN with mDNS/DNS-SD (_ocpp._tcp)")
    p.add_argument(
        "--trace", action="append", metavar="CHARGER_ID", default=[],
        help="log every OCPP frame to and from this charger (repeatable; -vv traces all chargers)",
    )  # fmt: skip
    p.add_argument("--mqtt", metavar="URL", help="Home Assistant over MQTT: mqtt://[USER:PASS@]HOST[:PORT][/BASE]")
    p.add_argument("--metrics-public", action="store_true", help="serve /metrics without a bearer token")
    p.add_argument("--trace-frames", type=int, default=50, metavar="N",
                   help="OCPP frames kept per charger for the message trace (default 50; 0: none)")  # fmt: skip
    p.add_argument(
        "--workers", type=_positive, default=1,
        help="processes sharing the OCPP and REST ports (SO_REUSEPORT), each a node of a cluster over --bus "
        "(needed when N > 1), so REST on any worker reaches every charger",
    )  # fmt: skip
    p.add_argument("--node", help="this node's name in the cluster (default: host name and process id)")
    p.add_argument(
        "--drain", type=float, default=0.0, metavar="SECONDS",
        help="on SIGTERM, answer /readyz 503 for this long before closing charger links with 1001 (a balancer "
        "stops sending chargers here first); default 0",
    )  # fmt: skip


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} out of range 0-65535")
    return port


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time, e.g. 2027-01-01T00:00:00Z") from None


# ---------------------------------------------------------------------- commands
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "verbose", 0), getattr(args, "trace", []))
    try:
        return _run(args)
    except (UsageError, ConfigError, AdminError) as exc:
        print(f"chargewise: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


class ChargerFilter(logging.Filter):
    """Lets through the frame-trace lines (``chargewise.frames``: charger id first) of the given chargers."""

    def __init__(self, charger_ids: set[str]) -> None:
        super().__init__()
        self.charger_ids = charger_ids

    def filter(self, record: logging.LogRecord) -> bool:
        return isinstance(record.args, tuple) and bool(record.args) and record.args[0] in self.charger_ids


def configure_logging(verbose: int, traced: list[str]) -> None:
    """Warnings by default; ``-v`` info; ``-vv`` also every OCPP frame; ``--trace ID`` the frames of those
    chargers only (the transport logs them at debug level on ``chargewise.frames``)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if verbose >= 2 or traced:
        frames = logging.getLogger("chargewise.frames")
        frames.setLevel(logging.DEBUG)
        if verbose < 2:
            frames.addFilter(ChargerFilter(set(traced)))


def _run(args: argparse.Namespace) -> int:
    from chargewise.cli_commands import COMMANDS

    runner: Callable[[argparse.Namespace], Awaitable[int]] = COMMANDS[args.command]
    if args.command == "serve" and args.workers > 1:
        from chargewise.cli_commands import fork_workers

        fork_workers(args)  # returns in each process with args.worker_index set
    _install_uvloop()
    return asyncio.run(_guard(runner(args)))


async def _guard(work: Awaitable[int]) -> int:
    """Turn store and network failures into one-line errors."""
    import sqlalchemy.exc

    from chargewise.bootstrap import StartupError

    try:
        return await work
    except StartupError as exc:
        raise UsageError(str(exc)) from None
    except sqlalchemy.exc.OperationalError as exc:
        raise UsageError(f"cannot use the database: {exc.orig} (check --db / --data-dir)") from None
    except OSError as exc:
        if exc.errno == 98:
            raise UsageError(
                f"{exc.strerror}: another process uses that port; pick another with --ocpp-port/--http-port"
            ) from None
        raise UsageError(f"{exc.strerror or exc}") from None


def _install_uvloop() -> None:
    if os.environ.get("CHARGEWISE_NO_UVLOOP"):
        return
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
