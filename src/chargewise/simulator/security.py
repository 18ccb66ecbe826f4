"""Security events the charger owes the CSMS (SecurityEventNotification), kept until it is Accepted.

Rules:

1. An event that happens while the charger cannot send (offline, booting) waits here; all are sent, oldest
   first, once it is Accepted.
2. Failed TLS handshakes are not reported one by one: every failure since the last report becomes one
   ``InvalidCsmsCertificate`` event, stamped with the latest failure, saying how many there were since when.
"""

from __future__ import annotations

from dataclasses import dataclass

from chargewise.simulator.clock import iso


@dataclass(frozen=True, kw_only=True, slots=True)
class SecurityEvent:
    kind: str  # a security event type (StartupOfTheDevice, ResetOrReboot, FirmwareUpdated, ...)
    info: str  # techInfo
    at: float  # when it happened


class SecurityEvents:
    """The events not yet sent: :meth:`add` and :meth:`tls_failed` as they happen, :meth:`drain` to send."""

    __slots__ = ("_pending", "_tls_failures")

    def __init__(self) -> None:
        self._pending: list[SecurityEvent] = []
        self._tls_failures: list[tuple[float, str]] = []

    def add(self, kind: str, info: str, at: float) -> None:
        self._pending.append(SecurityEvent(kind=kind, info=info, at=at))

    def tls_failed(self, at: float, detail: str) -> None:
        self._tls_failures.append((at, detail))

    def drain(self) -> list[SecurityEvent]:
        """Every event to send now, oldest first (rule 2 folds the TLS failures into one); the buffer empties."""
        if self._tls_failures:
            first, detail = self._tls_failures[0]
            info = f"{detail} ({len(self._tls_failures)} failed TLS handshakes since {iso(first)})"
            self.add("InvalidCsmsCertificate", info, self._tls_failures[-1][0])
            self._tls_failures.clear()
        out, self._pending = self._pending, []
        return out
