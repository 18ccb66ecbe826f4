"""The firmware's ports: what it asks of its radio and of its OCPP dialect, and the effects it hands the driver.

- :class:`Radio` is implemented by :class:`~.faults.NetworkPath` (and by fakes in tests).
- :class:`Dialect` is implemented once per OCPP version (``v16/dialect.py``, ``v201/dialect.py``): it builds
  every message the charger sends and answers every call the CSMS makes, through a route table.
- Effects (:class:`Disconnect`, :class:`Download`, :class:`Upload`) are I/O the firmware cannot do itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from chargewise.ocpp.frames import Payload
from chargewise.simulator.faults import RadioSample
from chargewise.simulator.outbox import Kind, Queued

if TYPE_CHECKING:
    from chargewise.simulator.connector import Connector, Transaction


@dataclass(frozen=True, kw_only=True, slots=True)
class Disconnect:
    """Close the connection (a reboot)."""

    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Download:
    """GET ``url`` and report with ``Firmware.download_done``."""

    url: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Upload:
    """POST ``body`` as ``filename`` to ``url`` and report with ``Firmware.upload_done``."""

    url: str
    filename: str
    body: bytes


Effect = Disconnect | Download | Upload


class Radio(Protocol):
    """What the firmware can read from its radio."""

    def sample(self, *, car_present: bool) -> RadioSample: ...

    def reboot(self) -> None: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Reply:
    """A handler's answer: the payload, and what to do once it is sent (e.g. reboot after a Reset)."""

    payload: Payload
    after: Callable[[float], None] | None = None


class Dialect(Protocol):
    """One OCPP version's messages, built and read for the firmware."""

    supported: frozenset[str]

    def answer(self, action: str, payload: Payload, now: float) -> Reply: ...

    def boot(self, reason: str) -> tuple[str, Payload]: ...

    def status(self, c: Connector | None, now: float) -> list[tuple[str, Payload]]: ...

    def authorize(self, id_tag: str) -> tuple[str, Payload]: ...

    def authorized(self, answer: Payload) -> bool: ...

    def tx_message(
        self, c: Connector, tx: Transaction, kind: Kind, now: float, trigger: str, reason: str | None = None
    ) -> Queued | None: ...

    def resolve(self, item: Queued) -> Payload | None: ...

    def tx_answered(self, item: Queued, answer: Payload, now: float) -> None: ...

    def rssi(self, sample: RadioSample, now: float, *, periodic: bool) -> list[tuple[str, Payload]]: ...

    def security_event(self, kind: str, tech_info: str, at: float) -> tuple[str, Payload]: ...

    def firmware_status(self, status: str, request_id: int | None) -> tuple[str, Payload] | None: ...

    def log_status(self, status: str, request_id: int | None, kind: str) -> tuple[str, Payload]: ...
