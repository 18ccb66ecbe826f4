"""The doctor's output: findings in one stable vocabulary (also the JSON's ``cause`` values)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Cause(enum.StrEnum):
    HEALTHY = "healthy"
    WEAK_SIGNAL = "weak_signal"
    VEHICLE_OBSTRUCTION = "vehicle_obstruction"
    STICKY_CLIENT = "sticky_client"
    WPA3_TRANSITION = "wpa3_transition"
    KEEPALIVE_TIMEOUT = "keepalive_timeout"
    HALF_OPEN = "half_open"
    DNS = "dns"
    TLS = "tls"
    FIRMWARE_NO_RECONNECT = "firmware_no_reconnect"
    SERVER_PACING = "server_pacing"
    CREDENTIALS = "credentials"  # added by the rules: the handshake reaches us and is refused (URL, id, password)


@dataclass(frozen=True, kw_only=True, slots=True)
class Evidence:
    at: datetime | None
    what: str  # "RSSI", "disconnect", "ping lost", ...
    value: str  # "-77 dBm", "1006 without close frame after 118 s idle", ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    cause: Cause
    confidence: float  # 0..1
    summary: str  # one line a home owner understands
    explanation: str  # plain words: what happened and why
    fix: str  # what to do
    evidence: tuple[Evidence, ...] = ()
    tells_apart: tuple[str, ...] = ()  # for uncertain findings: which audit or probe would decide


@dataclass(frozen=True, kw_only=True, slots=True)
class Diagnosis:
    charger_id: str
    at: datetime
    findings: tuple[Finding, ...] = field(default_factory=tuple)  # most likely first; never empty

    @property
    def cause(self) -> Cause:
        return self.findings[0].cause
