"""Configuration: command-line options over environment variables over an optional TOML file over defaults.

A config file (``--config FILE``, or ``chargewise.toml`` in the data directory if present) may hold::

    [server]
    host = "0.0.0.0"
    ocpp_port = 9000
    http_port = 8080
    unknown_chargers = "pending"   # accept | pending | reject
    heartbeat_interval = 300
    free_charging = false          # homes: accept any id tag
    reap_offline_after = 86400     # s silent before a charger's open transactions are closed (0: never)
    max_pending = 1000             # unknown chargers waiting for approval at once (policy pending)
    pending_per_minute = 60        # unknown chargers added as Pending per minute
    auth_failures_per_charger = 5  # wrong passwords per charger id within auth_failure_window, then 429 (0: off)
    auth_failures_per_address = 20 # the same per remote address
    auth_failure_window = 60       # s

    [link]                         # defaults for every charger
    ping_interval = 60
    ping_timeout = 30
    call_timeout = 30
    max_message_size = 65536

    [chargers."CP-1"]              # per-charger overrides of [link]
    ping_interval = 20

    [doctor]                       # link signals kept for ``chargewise doctor explain`` (docs/doctor.md)
    retention_days = 14
    rows_per_charger = 4032        # at most this many stored batches per charger (one per flush)
    flush_every = 300              # s between batched writes of the signals
    watch_radio = true             # 2.0.1: read DataLink.SignalStrength after boot and monitor it (NotifyEvent)

    [firmware]                     # OTA campaigns (chargewise firmware / campaign)
    download_url = "http://192.168.1.10:8080"  # how chargers reach the REST port (default http://HOST:PORT)
    campaign_tick = 5              # s between turns of the campaign loop
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import msgspec

# Ranges, checked as the file is read: a value out of range is the same one-line error as a wrong type
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]  # 0: any free port
Seconds = Annotated[float, msgspec.Meta(gt=0)]
WholeSeconds = Annotated[int, msgspec.Meta(ge=1)]
PingInterval = Annotated[float, msgspec.Meta(ge=0)]  # 0: the server sends no WebSocket pings
MessageSize = Annotated[int, msgspec.Meta(ge=1024)]  # a BootNotification alone can take several hundred bytes


class ConfigError(Exception):
    """A bad configuration value; the message says which and how to fix it."""


class ServerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "0.0.0.0"
    ocpp_port: Port = 9000
    http_port: Port = 8080
    unknown_chargers: str = "pending"
    heartbeat_interval: WholeSeconds = 300
    free_charging: bool = False
    reap_offline_after: Annotated[int, msgspec.Meta(ge=0)] = 86_400  # 0: never
    max_pending: Annotated[int, msgspec.Meta(ge=0)] = 1000  # 0: no unknown charger is added as Pending
    pending_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 60
    auth_failures_per_charger: Annotated[int, msgspec.Meta(ge=0)] = 5  # 0: no limit
    auth_failures_per_address: Annotated[int, msgspec.Meta(ge=0)] = 20  # 0: no limit
    auth_failure_window: Seconds = 60.0


class LinkConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ping_interval: PingInterval = 60.0
    ping_timeout: Seconds = 30.0
    call_timeout: Seconds = 30.0
    max_message_size: MessageSize = 64 * 1024


class LinkOverride(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ping_interval: PingInterval | None = None
    ping_timeout: Seconds | None = None
    call_timeout: Seconds | None = None


class DoctorConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    retention_days: Seconds = 14.0
    rows_per_charger: Annotated[int, msgspec.Meta(ge=1)] = 4032
    flush_every: Seconds = 300.0
    watch_radio: bool = True


class FirmwareConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    download_url: str | None = None
    campaign_tick: Seconds = 5.0


class FileConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    doctor: DoctorConfig = msgspec.field(default_factory=DoctorConfig)
    link: LinkConfig = msgspec.field(default_factory=LinkConfig)
    chargers: dict[str, LinkOverride] = msgspec.field(default_factory=dict)
    firmware: FirmwareConfig = msgspec.field(default_factory=FirmwareConfig)


def data_dir(option: str | None) -> Path:
    """``--data-dir``, else ``$CHARGEWISE_DATA_DIR``, else ``./data``."""
    return Path(option or os.environ.get("CHARGEWISE_DATA_DIR") or "data")


def database_url(option: str | None, directory: Path) -> str:
    """``--db``, else ``$CHARGEWISE_DB``, else SQLite in the data directory."""
    url = option or os.environ.get("CHARGEWISE_DB")
    if url:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ConfigError(
                f"unsupported database URL {url!r}: use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
            )
        return url
    return f"sqlite+aiosqlite:///{directory.resolve() / 'chargewise.db'}"


def load_file(path: Path | None, directory: Path) -> FileConfig:
    """Read the config file; a missing default file means defaults, a missing named file is an error."""
    if path is None:
        path = directory / "chargewise.toml"
        if not path.exists():
            return FileConfig()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        config = msgspec.toml.decode(raw, type=FileConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {exc} (see the config section of the README)") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    if config.server.unknown_chargers not in ("accept", "pending", "reject"):
        raise ConfigError(f"{path}: server.unknown_chargers must be accept, pending or reject")
    reap, beat = config.server.reap_offline_after, config.server.heartbeat_interval
    if 0 < reap < 2 * beat:
        raise ConfigError(
            f"{path}: server.reap_offline_after ({reap} s) must be 0 or at least twice heartbeat_interval ({beat} s):"
            " a charger that speaks only with its Heartbeats would look gone between two of them"
        )
    return config
