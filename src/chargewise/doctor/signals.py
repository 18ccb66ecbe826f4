"""What the server observed of one charger's link: the doctor's only input. Every field is something a real
server sees (frames a charger sent, how its link behaved); nothing comes from a simulator's scenario.

Recorded by the live adapters (``services/link_signals.py``), stored compactly with retention, and handed to
:func:`chargewise.doctor.rules.diagnose` together with the time ``now`` (injected, never read here).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class LinkEventKind(enum.StrEnum):
    CONNECTED = "connected"  # WebSocket upgraded and registered
    DISCONNECTED = "disconnected"  # a link ended (see close_code / closed_by)
    REFUSED = "refused"  # the handshake was refused (bad password, unknown id, wrong subprotocol, ...)
    TLS_FAILED = "tls_failed"  # a TLS handshake from the charger's last known address failed


class ClosedBy(enum.StrEnum):
    CHARGER = "charger"  # the charger sent a close frame
    SERVER = "server"  # we closed it (shutdown, replaced, demoted, protocol error)
    PING_TIMEOUT = "ping_timeout"  # our WebSocket ping went unanswered: the link was dead or half-open
    TRANSPORT = "transport"  # TCP ended without a close frame (1006)
    REPLACED = "replaced"  # a newer connection of the same charger took over


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkEvent:
    at: datetime
    kind: LinkEventKind
    remote: str | None = None  # peer address ("203.0.113.7"), without the port
    close_code: int | None = None  # RFC 6455 code, 1006 when no close frame came
    closed_by: ClosedBy | None = None
    tls_version: str | None = None  # "TLSv1.3" on a wss link
    detail: str = ""  # the close reason, the refusal or the TLS alert, as text
    last_frame_at: datetime | None = None  # DISCONNECTED: when the last frame from the charger arrived
    # added by the rules: DISCONNECTED: the longest stretch without any frame or pong from the charger that the
    # link lived through (its final silence not counted); None when not tracked (the doctor then estimates it)
    longest_quiet_s: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class PingSample:
    at: datetime
    rtt_s: float | None  # None: no pong before the ping timeout


@dataclass(frozen=True, kw_only=True, slots=True)
class RadioSample:
    at: datetime
    rssi_dbm: float
    bssid: str | None = None
    source: str = ""  # "SignalStrength", "DataTransfer com.chargewise.net/Rssi", "StatusNotification WeakSignal"


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusSample:
    at: datetime
    evse_id: int
    connector_id: int
    status: str  # the domain's ConnectorStatus value ("Available", "Occupied", "Charging", "Faulted", ...)
    error_code: str | None = None  # 1.6 errorCode other than NoError ("WeakSignal", "GroundFailure", ...)
    info: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionSample:
    """Added by the rules: a charging session (transaction) as the charger reported it, with its own
    timestamps (so one started while offline still counts): a car stood at the charger from start to end."""

    start: datetime
    end: datetime | None = None  # None: still going at the end of the window
    evse_id: int = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class BootSample:
    at: datetime
    reason: str  # 2.0.1 BootReasonEnumType, or from a 1.6 SecurityEvent's techInfo; "" when not told
    firmware: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SecurityEventSample:
    at: datetime
    type: str  # "InvalidCsmsCertificate", "StartupOfTheDevice", "ResetOrReboot", ...
    tech_info: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandSample:
    """One call we sent the charger: server-side pacing shows as timeouts and bursts."""

    at: datetime
    action: str
    outcome: str  # "ok", "call_error", "timeout", "offline"
    duration_s: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Signals:
    """Everything observed of one charger between ``since`` and the time of diagnosis, oldest first."""

    charger_id: str
    since: datetime  # the start of the window these signals cover
    known_since: datetime | None = None  # when the charger was added (by an operator or its first boot)
    ever_connected: bool = False  # any connection at all, also before ``since``
    model: str | None = None
    vendor: str | None = None
    firmware: str | None = None
    heartbeat_interval_s: float | None = None  # what we told it at boot (or what it reported)
    ping_interval_s: float | None = None  # our WebSocket ping interval for its link (0: off)
    ping_timeout_s: float | None = None
    connected_now: bool = False
    links: tuple[LinkEvent, ...] = ()
    pings: tuple[PingSample, ...] = ()
    radio: tuple[RadioSample, ...] = ()
    statuses: tuple[StatusSample, ...] = ()
    boots: tuple[BootSample, ...] = ()
    security_events: tuple[SecurityEventSample, ...] = ()
    heartbeats: tuple[datetime, ...] = ()  # when each Heartbeat arrived
    commands: tuple[CommandSample, ...] = ()
    # added by the rules: how many other chargers reconnected after the server's last clean close of this one
    # (a restart closes every link at once); None when not known
    others_reconnected: int | None = None
    sessions: tuple[SessionSample, ...] = ()  # added by the rules: charging sessions (a car at the charger)
    extra: dict[str, str] = field(default_factory=dict)  # anything else worth showing (not used by rules)
