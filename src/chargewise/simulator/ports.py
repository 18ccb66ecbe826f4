"""The firmware's ports: what it asks of its radio and of its OCPP dialect, what a dialect may ask of the
firmware, and the effects it hands the driver.

- :class:`Radio` is implemented by :class:`~.faults.NetworkPath` (and by fakes in tests).
- :class:`Dialect` is implemented once per OCPP version (``v16/dialect.py``, ``v201/dialect.py``): it builds
  every message the charger sends and answers every call the CSMS makes, through a route table.
- :class:`Charger` is what a dialect reads and asks of the charger; :class:`~.firmware.Firmware` implements
  it, so the dialects never import the firmware (which builds them).
- Effects (:class:`Disconnect`, :class:`Download`, :class:`Upload`) are I/O the firmware cannot do itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chargewise.ocpp.frames import Payload
from chargewise.simulator.connector import Connector, Transaction
from chargewise.simulator.credentials import Credentials
from chargewise.simulator.faults import RadioSample
from chargewise.simulator.outbox import Kind, Outbox, Queued
from chargewise.simulator.settings import Settings
from chargewise.simulator.station import Station
from chargewise.simulator.templates import Template


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


class Charger(Protocol):
    """What a dialect reads from and asks of the charger it speaks for (the firmware implements it).

    Connectors, transactions and profiles are the :attr:`station`'s; the rest is the firmware's own.
    """

    station: Station
    weak_signal: bool  # the dialect decides when the signal counts as weak (its messages say so)
    credentials: Credentials  # network profiles, password, certificates (``credentials.py``)

    @property
    def template(self) -> Template: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def serial(self) -> str: ...

    @property
    def firmware_version(self) -> str: ...

    @property
    def rssi(self) -> RadioSample | None: ...

    @property
    def registered(self) -> bool: ...

    @property
    def accepted(self) -> bool: ...

    def now_iso(self, t: float) -> str: ...

    def note(self, now: float, text: str) -> None: ...

    def send(self, action: str, payload: Payload, now: float) -> None: ...

    def reset(self, now: float, *, reason: str, stop_reason: str, on_idle: bool = False) -> str: ...

    def after_reset(self) -> Callable[[float], None]: ...

    def reconnect(self, now: float, reason: str) -> None: ...

    def trigger(self, what: str, connector_id: int | None) -> Callable[[float], None] | None: ...

    def update_firmware(
        self, url: str, retrieve_at: float, retries: int, interval: float, request_id: int | None,
        signed: tuple[str, str] | None = None,
    ) -> None:  # fmt: skip
        """``signed``: (signing certificate PEM, signature base64) of a signed update."""
        ...

    def upload_log(
        self, url: str, request_id: int | None, retries: int, interval: float, kind: str, now: float
    ) -> str: ...
