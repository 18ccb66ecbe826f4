"""The charger's firmware: one version-neutral state machine on the charger side of the sans-I/O OCPP session.
It never awaits and never reads the clock; the driver feeds it and carries out what it asks.

Rules (everything that changes the firmware's state lives here or in the connector it owns):

1. Phases: OFF -> (power on) OFFLINE -> (connected) BOOTING -> (BootNotification Accepted) ACCEPTED; a
   lost connection goes back to OFFLINE, a reset or firmware install to REBOOTING and then OFFLINE. A
   reconnection skips BOOTING when the charger is still registered (unless the template's
   ``boot_on_reconnect`` quirk says otherwise).
2. Nothing but BootNotification (and answers to the CSMS) is sent before Accepted (1.6 4.2, 2.0.1 B02).
   Pending/Rejected: BootNotification again after the interval the CSMS gave.
3. Transaction messages (start, meter values, stop) always go through the bounded :class:`Outbox`, created
   whether or not the charger is online, and leave one at a time in order (see ``outbox.py``).
   Everything else is only sent while Accepted and is lost when offline, as on real chargers.
4. Reconnect back-off: ``RetryBackOffWaitMinimum x 2^min(n, RetryBackOffRepeatTimes) + uniform(0,
   RetryBackOffRandomRange)`` for the n-th consecutive failure (2.0.1 B10, connectivity.md 2.2). OCPP 1.6
   has no such keys; the same rule runs with the template's values (3 s, 10 s, 5 doublings by default).
5. The EV's power follows the composite limit, recomputed whenever a profile, a transaction, a fault, the
   connection (offline limits) or time changes it; meter values carry what the EV draws at that moment.
6. Offline authorization: an id tag presented while offline is accepted (LocalAuthorizeOffline).

Drive it: :meth:`power_on`; connect at :attr:`connect_at` and report :meth:`connected` /
:meth:`connect_failed` / :meth:`disconnected`; feed every text frame to :meth:`receive`; call :meth:`tick`
at :meth:`next_deadline`; after each call send :meth:`outgoing` and carry out :meth:`effects`.
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.frames import Payload
from chargewise.ocpp.session import (
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    MessageRejected,
    ResultReceived,
    Role,
    Session,
)
from chargewise.simulator import maintenance
from chargewise.simulator.clock import iso
from chargewise.simulator.composite import (
    CompositePeriod,
    Context,
    Electrical,
    Limit,
    composite_schedule,
    limit_at,
)
from chargewise.simulator.connector import Connector, Transaction
from chargewise.simulator.ev import EV
from chargewise.simulator.faults import RadioSample
from chargewise.simulator.maintenance import FirmwareStatus, LogStatus, Maintenance, RebootInto
from chargewise.simulator.outbox import Kind, Outbox, Queued
from chargewise.simulator.ports import Dialect, Disconnect, Effect, Radio, Reply
from chargewise.simulator.profiles import Profile, ProfileError, ProfileStore, Purpose
from chargewise.simulator.rng import Rng
from chargewise.simulator.settings import Settings
from chargewise.simulator.templates import Template
from chargewise.simulator.views import ChargerView, ConnectorView
from chargewise.simulator.workload import Visit

PHYSICS_STEP_S = 30.0  # how often a plugged EV's state (taper, full) is re-evaluated
RSSI_SAMPLE_S = 30.0  # how often the radio's RSSI is read for monitors and WeakSignal
RELEASE_DELAY_S = 2.0  # a reset waits this long for stop messages before rebooting
LOG_LINES = 64  # the event log kept for diagnostics uploads (small: an ESP32 has little RAM)


class Phase(enum.Enum):
    OFF = "off"
    OFFLINE = "offline"
    BOOTING = "booting"
    ACCEPTED = "accepted"
    REBOOTING = "rebooting"


class Firmware:
    """One simulated charger's behaviour (rules in the module docstring)."""

    __slots__ = (
        "_attempt",
        "_boot_retry_at",
        "_delayed",
        "_heartbeat_at",
        "_installed",
        "_needs_boot",
        "_new_version",
        "_out_effects",
        "_pending_reset",
        "_pending_security",
        "_physics_at",
        "_physics_last",
        "_reboot_at",
        "_reset_when_idle",
        "_rssi_report_at",
        "_rssi_sample_at",
        "_tls_failures",
        "_tx_counter",
        "_visits",
        "boot_reason",
        "charger_id",
        "connect_at",
        "connectors",
        "dialect",
        "electrical",
        "failures",
        "firmware_version",
        "log",
        "maintenance",
        "monitors",
        "offline_since",
        "outbox",
        "phase",
        "profiles",
        "radio",
        "registered",
        "rng",
        "rssi",
        "serial",
        "session",
        "settings",
        "station_reported",
        "stats",
        "template",
        "tx_ids",
        "version",
        "weak_signal",
    )

    def __init__(
        self,
        *,
        charger_id: str,
        template: Template,
        version: OcppVersion,
        seed: str,
        radio: Radio,
        visits: list[Visit] | None = None,
        call_timeout: float | None = None,
    ) -> None:
        self.charger_id = charger_id
        self.template = template
        self.version = version
        self.radio = radio
        self.rng = Rng(f"{seed}/firmware")
        self.settings = Settings(template)
        self.electrical = Electrical(
            phases=template.phases, voltage_v=template.voltage_v, max_current_a=template.max_current_a
        )
        self.connectors = [Connector(id=i + 1, voltage_v=template.voltage_v) for i in range(template.connectors)]
        self.profiles = ProfileStore(
            evse_count=template.connectors, quirks=template.quirks, replace_same_slot=version is OcppVersion.V16
        )
        self.outbox = Outbox(template.offline_queue_limit)
        self.firmware_version = template.firmware_version
        self.serial = f"{template.serial_prefix}{self.rng.randrange(10**8):08d}"
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.dialect: Dialect = _dialect(version, self)
        self.session = Session(
            version=version,
            role=Role.CHARGER,
            supported=self.dialect.supported,
            call_timeout=call_timeout or template.keepalive.call_timeout_s,
        )
        self._visits = deque(sorted(visits or [], key=lambda v: v.arrive_s))
        self.phase = Phase.OFF
        self.connect_at: float | None = None
        self.registered = False
        self.boot_reason = "PowerUp"
        self.tx_ids: dict[int, str] = {}  # local transaction number -> the CSMS's 1.6 transactionId
        self.monitors: list[dict[str, Any]] = []  # 2.0.1 custom monitors on DataLink.SignalStrength
        self.rssi: RadioSample | None = None
        self.weak_signal = False
        self.station_reported: tuple[str, str] | None = None  # last 1.6 connector-0 status sent
        self.stats: dict[str, int] = {"connects": 0, "disconnects": 0, "boots": 0, "connect_failures": 0}
        self.failures: Counter[str] = Counter()  # connection failures by stage (association, dns, tls, tcp...)
        self.offline_since: float | None = None
        self._tx_counter = 0
        self._attempt = 0
        self._out_effects: list[Effect] = []
        self._delayed: tuple[float, str, Reply] | None = None
        self._pending_security: list[tuple[str, str, float]] = []
        self._tls_failures: list[tuple[float, str]] = []
        self._boot_retry_at: float | None = None
        self._heartbeat_at: float | None = None
        self._rssi_sample_at: float | None = None
        self._rssi_report_at: float | None = None
        self._physics_last: float | None = None
        self._physics_at: float | None = None
        self._reboot_at: float | None = None
        self._needs_boot = True
        self.maintenance = Maintenance()
        self._installed: FirmwareStatus | None = None  # reported once the charger is accepted after an install
        self._new_version: str | None = None
        self._pending_reset: tuple[str, str] = ("RemoteReset", "SoftReset")
        self._reset_when_idle: str | None = None

    # ================================================================ driver inputs
    def power_on(self, now: float) -> None:
        """The charger gets power: it boots and connects after the template's boot time."""
        self.phase = Phase.OFFLINE
        self.offline_since = now
        self._physics_last = now
        self.connect_at = now + self.template.boot_time_s
        self._rssi_sample_at = now + RSSI_SAMPLE_S
        self.note(now, f"power on, firmware {self.firmware_version}")

    def connected(self, now: float) -> None:
        """The WebSocket is open."""
        self._advance(now)
        self.stats["connects"] += 1
        self._attempt = 0
        self.connect_at = None
        self.note(now, "connected")
        if self._needs_boot or not self.registered or self.template.quirks.boot_on_reconnect:
            self.phase = Phase.BOOTING
            self._send_boot(now)
        else:
            self._accepted(now)

    def connect_failed(self, now: float, stage: str, detail: str) -> None:
        """A connection attempt failed before the WebSocket opened (``stage``: association, dns, tls, tcp, ...)."""
        self.stats["connect_failures"] += 1
        self.failures[stage] += 1
        if stage == "tls":
            self._tls_failures.append((now, detail))
        self.note(now, f"connect failed at {stage}: {detail}")
        self._schedule_reconnect(now)

    def disconnected(self, now: float, *, closed_by_server: bool = False) -> None:
        """The connection is gone; ``closed_by_server``: the server sent a WebSocket close frame."""
        self._advance(now)
        for event in self.session.abandon():
            self._lost(event)
        self.outbox.reset_in_flight()
        self._delayed = None
        self._boot_retry_at = self._heartbeat_at = None
        self.stats["disconnects"] += 1
        if self.phase is Phase.REBOOTING:
            return
        self.phase = Phase.OFFLINE
        self.offline_since = now
        self.note(now, "disconnected" + (" by the server" if closed_by_server else ""))
        if closed_by_server and not self.template.quirks.reconnects_after_close:
            self.connect_at = None
            self.note(now, "firmware does not reconnect after a clean close")
            return
        self._schedule_reconnect(now)
        self._refresh(now)

    def receive(self, data: bytes | str, now: float) -> None:
        """One WebSocket text message from the CSMS."""
        self._advance(now)
        self._handle(self.session.receive(data, now), now)
        self._refresh(now)

    def tick(self, now: float) -> None:
        """Run every timer due by ``now``."""
        self._advance(now)
        self._handle(self.session.expire(now), now)
        self._run_visits(now)
        if self._delayed is not None and self._delayed[0] <= now:
            _, unique_id, reply = self._delayed
            self._delayed = None
            self._send_reply(unique_id, reply, now)
        if self._reboot_at is not None and self._reboot_at <= now:
            self._reboot_at = None
            self._reboot(now)
        if self.phase is Phase.BOOTING and self._boot_retry_at is not None and self._boot_retry_at <= now:
            self._send_boot(now)
        if self.phase is Phase.ACCEPTED and self._heartbeat_at is not None and self._heartbeat_at <= now:
            self._call("Heartbeat", {}, now, ("heartbeat",))
        self._meter(now)
        self._sample_radio(now)
        self._run_jobs(now)
        self._refresh(now)
        self._pump(now)

    def download_done(self, now: float, *, ok: bool, body: bytes = b"", detail: str = "") -> None:
        """Result of a :class:`Download`."""
        if not ok:
            self.note(now, f"firmware download failed: {detail}")
        self._carry_out(
            self.maintenance.download_done(now, ok=ok, body=body, current_version=self.firmware_version), now
        )

    def upload_done(self, now: float, *, ok: bool, detail: str = "") -> None:
        """Result of an :class:`Upload`."""
        if not ok:
            self.note(now, f"upload failed: {detail}")
        self._carry_out(self.maintenance.upload_done(now, ok=ok), now)

    def connector_fault(self, connector_id: int, error_code: str | None, now: float) -> None:
        """A hardware fault on a connector (``error_code`` None: cleared)."""
        self._advance(now)
        c = self.connectors[connector_id - 1]
        c.fault = error_code
        self.note(now, f"connector {connector_id} fault {error_code or 'cleared'}")
        self._refresh(now)

    # ================================================================ driver outputs
    def outgoing(self) -> list[bytes]:
        return self.session.outgoing()

    def effects(self) -> list[Effect]:
        out, self._out_effects = self._out_effects, []
        return out

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next run (None: nothing is scheduled)."""
        times: list[float | None] = [
            self.session.next_deadline(),
            self._next_visit_time(),
            self._delayed[0] if self._delayed else None,
            self._reboot_at,
            self._boot_retry_at if self.phase is Phase.BOOTING else None,
            self._heartbeat_at if self.phase is Phase.ACCEPTED else None,
            self._physics_at,
            self._rssi_sample_at,
            self.maintenance.next_deadline(),
        ]
        times.extend(c.next_meter for c in self.connectors if c.tx is not None)
        head = self.outbox.head()
        if self.phase is Phase.ACCEPTED and head is not None and head.in_flight is None:
            times.append(head.not_before)
        found = [t for t in times if t is not None]
        return min(found) if found else None

    @property
    def transactions(self) -> int:
        """Transactions started since power-on."""
        return self._tx_counter

    @property
    def car_present(self) -> bool:
        return any(c.ev is not None for c in self.connectors)

    def view(self) -> ChargerView:
        rows = tuple(
            ConnectorView(
                id=c.id,
                status=c.status().value,
                power_w=round(c.draw.watts, 1),
                current_a=c.draw.amps,
                offered_a=round(c.offered()[0], 1),
                energy_wh=round(c.register_wh, 1),
                soc=None if c.ev is None else round(c.ev.soc * 100, 1),
                transaction_id=None if c.tx is None else (c.tx.id or self.tx_ids.get(c.tx.local)),
            )
            for c in self.connectors
        )
        return ChargerView(
            charger_id=self.charger_id,
            template=self.template.name,
            version=self.version.value,
            phase=self.phase.value,
            firmware_version=self.firmware_version,
            rssi_dbm=None if self.rssi is None else self.rssi.rssi_dbm,
            queued=len(self.outbox),
            connectors=rows,
        )

    # ================================================================ operations the dialects call
    def find_connector(self, connector_id: int | None) -> Connector | None:
        """The connector for a remote start: the one named, else one with an EV waiting, else a free one."""
        if connector_id:
            return self.connectors[connector_id - 1] if 0 < connector_id <= len(self.connectors) else None
        idle = [c for c in self.connectors if c.tx is None and c.fault is None and not c.inoperative]
        waiting = [c for c in idle if c.ev is not None and not c.finished]
        free = [c for c in idle if c.ev is None]
        return waiting[0] if waiting else (free[0] if free else None)

    def remote_start(self, c: Connector, id_tag: str, remote_start_id: int | None, profile: Profile | None) -> bool:
        """Accept a remote start on ``c``; the transaction starts after the answer is sent (or at plug-in)."""
        if c.tx is not None or c.fault is not None or c.inoperative or c.finished:
            return False
        c.authorized_tag = id_tag
        c.remote_start_id = remote_start_id
        c.remote_profile = profile
        return True

    def after_remote_start(self, c: Connector) -> Callable[[float], None]:
        def start(now: float) -> None:
            if c.ev is not None and c.tx is None and c.authorized_tag is not None:
                self._start_tx(c, c.authorized_tag, now, "RemoteStart")
            elif c.tx is None:
                c.authorized_at = now
                self._refresh(now)

        return start

    def transaction(self, tx_id: str) -> Connector | None:
        """The connector whose transaction has the OCPP id ``tx_id``."""
        for c in self.connectors:
            if c.tx is not None and (c.tx.id or self.tx_ids.get(c.tx.local)) == tx_id:
                return c
        return None

    def stop(self, c: Connector, now: float, reason: str, trigger: str) -> None:
        """Stop the transaction on ``c`` (remote stop, reset, unlock, deauthorization). ``reason`` is a
        1.6 Reason / 2.0.1 ReasonEnumType value, ``trigger`` a 2.0.1 TriggerReasonEnumType value."""
        if c.tx is not None:
            self._stop_tx(c, now, reason, trigger)

    def reset(self, now: float, *, reason: str, stop_reason: str, on_idle: bool = False) -> str:
        """Reboot (after the answer is sent): stop transactions now, or wait for them to end (``on_idle``)."""
        busy = any(c.tx is not None for c in self.connectors)
        if on_idle and busy:
            self._reset_when_idle = reason
            return "Scheduled"
        self._pending_reset = (reason, stop_reason)
        return "Accepted"

    def after_reset(self) -> Callable[[float], None]:
        def go(now: float) -> None:
            reason, stop_reason = self._pending_reset
            for c in self.connectors:
                self.stop(c, now, stop_reason, "ResetCommand")
            self.boot_reason = reason
            self._reboot_at = now + RELEASE_DELAY_S

        return go

    def change_availability(self, connector_id: int, operative: bool, now: float) -> str:
        """ChangeAvailability on one connector (0: all): Accepted, or Scheduled while a transaction runs."""
        targets = self.connectors if connector_id == 0 else self.connectors[connector_id - 1 : connector_id]
        scheduled = False
        for c in targets:
            if c.tx is not None and not operative:
                c.pending_inoperative = True
                scheduled = True
            else:
                c.inoperative = not operative
                c.pending_inoperative = None
        self._refresh(now)
        return "Scheduled" if scheduled else "Accepted"

    def unlock(self, c: Connector, now: float) -> str:
        """UnlockConnector: stop a running transaction (UnlockCommand) and release the cable."""
        if c.tx is not None:
            self._stop_tx(c, now, "UnlockCommand", "UnlockCommand")
        return "Unlocked"

    def set_profile(self, profile: Profile, now: float) -> str:
        """Install a profile: "Accepted", or "Rejected" with the reason logged."""
        c = self.connectors[profile.evse_id - 1] if 0 < profile.evse_id <= len(self.connectors) else None
        tx = c.tx if c is not None else None
        if profile.purpose is Purpose.TX and tx is not None and profile.transaction_id is not None:
            if profile.transaction_id != (tx.id or self.tx_ids.get(tx.local)):
                self.note(now, f"profile {profile.id} rejected: transaction {profile.transaction_id} not running")
                return "Rejected"
            profile = replace(profile, transaction_id=None)
        try:
            self.profiles.install(profile, active_tx=None if tx is None else _key(tx))
        except ProfileError as exc:
            self.note(now, f"profile {profile.id} rejected: {exc}")
            return "Rejected"
        self.note(now, f"profile {profile.id} ({profile.purpose.value}, level {profile.stack_level}) installed")
        self._refresh(now)
        return "Accepted"

    def clear_profiles(self, now: float, **criteria: Any) -> int:
        removed = self.profiles.clear(**criteria)
        self._refresh(now)
        return removed

    def composite(self, evse_id: int, start: float, duration: float, unit: str) -> list[CompositePeriod]:
        """The composite schedule on ``evse_id`` (0: the station's max profiles only)."""
        c = self.connectors[evse_id - 1] if evse_id > 0 else None
        ctx = Context() if c is None or c.tx is None else Context(tx_id=_key(c.tx), tx_start=c.tx.started)
        profiles = self.profiles.relevant(evse_id) if evse_id else [
            p for p in self.profiles.profiles if p.purpose is Purpose.MAX
        ]  # fmt: skip
        return composite_schedule(
            profiles, evse_id=evse_id, start=start, duration=duration, unit=unit, electrical=self.electrical, ctx=ctx
        )

    def trigger(self, what: str, connector_id: int | None) -> Callable[[float], None] | None:
        """A TriggerMessage: the function that sends the message after the answer (None: not implemented)."""
        if what == "BootNotification":
            return lambda now: self._send_boot(now, reason="Triggered")
        if what == "Heartbeat":
            return lambda now: self._call("Heartbeat", {}, now, ("heartbeat",))
        if what == "StatusNotification":

            def statuses(now: float) -> None:
                for c in self.connectors:
                    if connector_id in (None, 0, c.id):
                        c.reported = None
                self._send_statuses(now, station=connector_id in (None, 0))

            return statuses
        if what in ("MeterValues", "TransactionEvent"):

            def meters(now: float) -> None:
                for c in self.connectors:
                    if c.tx is not None and connector_id in (None, 0, c.id):
                        self._queue(self.dialect.tx_message(c, c.tx, Kind.METER, now, "Trigger"))
                self._pump(now)

            return meters
        if what == "FirmwareStatusNotification":
            return lambda now: self._carry_out([self.maintenance.firmware_status()], now)
        if what in ("DiagnosticsStatusNotification", "LogStatusNotification"):
            kind = "diagnostics" if what == "DiagnosticsStatusNotification" else "log"
            return lambda now: self._carry_out([self.maintenance.log_status(kind)], now)
        return None

    def update_firmware(
        self, url: str, retrieve_at: float, retries: int, interval: float, request_id: int | None
    ) -> None:
        self.maintenance.update_firmware(url, retrieve_at, retries, interval, request_id)

    def upload_log(self, url: str, request_id: int | None, retries: int, interval: float, kind: str, now: float) -> str:
        return self.maintenance.upload_log(self.charger_id, url, request_id, retries, interval, kind, now)

    def send(self, action: str, payload: Payload, now: float) -> None:
        """Send a non-transactional message (only while Accepted; otherwise it is lost, as on real chargers)."""
        self._call(action, payload, now)

    def new_transaction_id(self) -> str:
        """A 2.0.1 transactionId: a UUID from the seeded RNG (the same seed gives the same ids)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def now_iso(self, t: float) -> str:
        return iso(t)

    # ================================================================ session events
    def _handle(self, events: list[Event], now: float) -> None:
        for event in events:
            if isinstance(event, CallReceived):
                self._answer(event, now)
            elif isinstance(event, ResultReceived):
                self._result(event.context, event.payload, now)
            elif isinstance(event, ErrorReceived):
                self._failed(event.context, f"{event.code}: {event.description}", now)
            elif isinstance(event, CallTimedOut):
                self._failed(event.context, "timed out", now)
            elif isinstance(event, MessageRejected):
                self.note(now, f"message rejected: {event.reason}")

    def _answer(self, call: CallReceived, now: float) -> None:
        reply = self.dialect.answer(call.action, call.payload, now)
        delay = self.template.quirks.answer_delay_s
        if delay > 0:
            self._delayed = (now + delay, call.unique_id, reply)
        else:
            self._send_reply(call.unique_id, reply, now)

    def _send_reply(self, unique_id: str, reply: Reply, now: float) -> None:
        events = self.session.reply(unique_id, reply.payload)
        if reply.after is not None:
            reply.after(now)
        self._handle(events, now)

    def _result(self, ctx: tuple[Any, ...], payload: Payload, now: float) -> None:
        kind = ctx[0]
        if kind == "boot":
            self._boot_answered(payload, now)
        elif kind == "authorize":
            self._authorize_answered(ctx[1], ctx[2], self.dialect.authorized(payload), now)
        elif kind == "outbox":
            item: Queued = ctx[1]
            self.dialect.tx_answered(item, payload, now)
            self.outbox.delivered(item)
            self._pump(now)

    def _failed(self, ctx: tuple[Any, ...], why: str, now: float) -> None:
        kind = ctx[0]
        self.note(now, f"{kind} call failed: {why}")
        if kind == "boot":
            self._boot_retry_at = now + self.template.keepalive.boot_retry_s
        elif kind == "authorize":
            self._authorize_answered(ctx[1], ctx[2], False, now)
        elif kind == "outbox":
            item: Queued = ctx[1]
            interval = float(self.settings.int("tx_retry_interval"))
            if why == "timed out":
                self.outbox.unsent(item)
                item.not_before = now + interval
            elif self.outbox.failed(item, now=now, attempts=self.settings.int("tx_attempts"), retry_interval=interval):
                self.note(now, f"{item.action} discarded after {item.errors} errors")
            self._pump(now)

    def _lost(self, event: CallTimedOut) -> None:
        if event.context and event.context[0] == "outbox":
            self.outbox.unsent(event.context[1])

    # ================================================================ connection and boot
    def _call(self, action: str, payload: Payload, now: float, ctx: tuple[Any, ...] = ("other",)) -> None:
        if self.phase is not Phase.ACCEPTED and action != "BootNotification":
            return
        self.session.call(action, payload, now, ctx)
        self._heartbeat_at = now + max(1, self.settings.int("heartbeat_interval"))

    def _send_boot(self, now: float, reason: str | None = None) -> None:
        self._boot_retry_at = None
        action, payload = self.dialect.boot(reason or self.boot_reason)
        self.session.call(action, payload, now, ("boot",))

    def _boot_answered(self, payload: Payload, now: float) -> None:
        status, interval = payload["status"], int(payload.get("interval", 0))
        self.stats["boots"] += 1
        self.note(now, f"BootNotification {status} (interval {interval})")
        if status != "Accepted":
            self.registered = False
            self._boot_retry_at = now + (interval or self.template.keepalive.boot_retry_s)
            return
        if interval > 0:
            self.settings.set("heartbeat_interval", str(interval))
        self.registered = True
        if self._needs_boot:
            kind = "StartupOfTheDevice" if self.boot_reason == "PowerUp" else "ResetOrReboot"
            self._pending_security.append((kind, f"boot reason {self.boot_reason}", now))
        self._needs_boot = False
        self.boot_reason = "Unknown"
        self._accepted(now)

    def _accepted(self, now: float) -> None:
        self.phase = Phase.ACCEPTED
        self.offline_since = None
        self._heartbeat_at = now + max(1, self.settings.int("heartbeat_interval"))
        self._rssi_report_at = now + 5.0 if self.settings.int("rssi_interval") > 0 else None
        self._send_statuses(now, station=True)
        self._flush_security(now)
        if self._installed is not None:
            installed, self._installed = self._installed, None
            self._carry_out([installed], now)
            self._security("FirmwareUpdated", f"installed {self.firmware_version}", now)
        self._refresh(now)
        self._pump(now)

    def _schedule_reconnect(self, now: float) -> None:
        s = self.settings
        wait = s.int("backoff_minimum") * 2 ** min(self._attempt, s.int("backoff_repeat"))
        self.connect_at = now + wait + self.rng.uniform(0, s.int("backoff_random"))
        self._attempt += 1

    def _reboot(self, now: float) -> None:
        self.note(now, f"rebooting ({self.boot_reason})")
        self._out_effects.append(Disconnect(reason=f"reboot: {self.boot_reason}"))
        for event in self.session.abandon():
            self._lost(event)
        self.outbox.reset_in_flight()
        self.phase = Phase.REBOOTING
        self.registered = False
        self._needs_boot = True
        self._delayed = None
        for c in self.connectors:
            c.reported = None
        self.station_reported = None
        self.radio.reboot()
        installed = self.maintenance.rebooted()
        if installed is not None and self._new_version:
            self.firmware_version = self._new_version
            self.settings.set("firmware_version", self.firmware_version)
            self._installed = installed
        self.connect_at = now + self.template.boot_time_s
        self.offline_since = now
        self._refresh(now)

    def _flush_security(self, now: float) -> None:
        if self._tls_failures:
            first, detail = self._tls_failures[0]
            count = len(self._tls_failures)
            info = f"{detail} ({count} failed TLS handshakes since {iso(first)})"
            self._pending_security.append(("InvalidCsmsCertificate", info, self._tls_failures[-1][0]))
            self._tls_failures.clear()
        for kind, info, at in self._pending_security:
            action, payload = self.dialect.security_event(kind, info, at)
            self._call(action, payload, now)
        self._pending_security.clear()

    def _security(self, kind: str, info: str, now: float) -> None:
        self._pending_security.append((kind, info, now))
        if self.phase is Phase.ACCEPTED:
            self._flush_security(now)

    # ================================================================ connectors and transactions
    def _advance(self, now: float) -> None:
        last = self._physics_last
        if last is not None and now > last:
            for c in self.connectors:
                c.advance(now - last)
        self._physics_last = now

    def _refresh(self, now: float) -> None:
        """Recompute every connector's limit, draw and status; report what changed (rule 5)."""
        for c in self.connectors:
            c.limit = self._limit(c, now)
            c.update_draw()
            if c.pending_inoperative and c.tx is None:
                c.inoperative, c.pending_inoperative = True, None
            if c.tx is not None and c.tx.charging_state != c.charging_state():
                c.tx.charging_state = c.charging_state()
                self._queue(self.dialect.tx_message(c, c.tx, Kind.EVENT, now, "ChargingStateChanged"))
            waited = None if c.authorized_at is None or c.ev is not None else now - c.authorized_at
            if waited is not None and waited >= self.settings.int("connection_timeout"):
                self.note(now, f"connector {c.id}: no EV within ConnectionTimeOut, authorization dropped")
                c.authorized_tag = c.authorized_at = c.remote_profile = None
        self._physics_at = now + PHYSICS_STEP_S if self.car_present else None
        if self.phase is Phase.ACCEPTED:
            self._send_statuses(now, station=False)
        if self._reset_when_idle is not None and all(c.tx is None for c in self.connectors):
            self.boot_reason = self._reset_when_idle
            self._reset_when_idle = None
            self._reboot_at = now + RELEASE_DELAY_S

    def _limit(self, c: Connector, now: float) -> Limit:
        ctx = Context() if c.tx is None else Context(tx_id=_key(c.tx), tx_start=c.tx.started)
        limit = limit_at(self.profiles.relevant(c.id), now, evse_id=c.id, electrical=self.electrical, ctx=ctx)
        offline_a, since = self.template.quirks.offline_limit_a, self.offline_since
        if offline_a is not None and since is not None and now - since >= self.template.quirks.offline_after_s:
            limit = Limit(amps=min(limit.amps, offline_a), phases=limit.phases, voltage_v=limit.voltage_v)
        return limit

    def _send_statuses(self, now: float, *, station: bool) -> None:
        if self.phase is not Phase.ACCEPTED:
            return
        if station:
            for action, payload in self.dialect.status(None, now):
                self._call(action, payload, now)
        for c in self.connectors:
            for action, payload in self.dialect.status(c, now):
                self._call(action, payload, now)

    def _next_visit_time(self) -> float | None:
        times = [c.ev.departure for c in self.connectors if c.ev is not None]
        timeout = self.settings.int("connection_timeout")
        times += [c.authorized_at + timeout for c in self.connectors if c.authorized_at is not None and c.ev is None]
        if self._visits:
            times.append(self._visits[0].arrive_s)
        return min(times) if times else None

    def _run_visits(self, now: float) -> None:
        for c in self.connectors:
            if c.ev is not None and c.ev.departure <= now:
                self._unplug(c, now)
        while self._visits and self._visits[0].arrive_s <= now:
            self._plug_in(self._visits.popleft(), now)

    def _plug_in(self, v: Visit, now: float) -> None:
        c = self.connectors[v.connector - 1] if v.connector <= len(self.connectors) else None
        if c is None or c.ev is not None or c.fault is not None or c.inoperative or v.depart_s <= now:
            self.note(now, f"EV turned away at connector {v.connector}")
            return
        c.ev = EV(
            capacity_wh=v.capacity_wh,
            soc=v.soc,
            energy_wanted_wh=v.energy_wh,
            departure=v.depart_s,
            obc_max_a=v.obc_max_a,
            phases=v.phases,
            id_tag=v.id_tag,
        )
        c.finished = False
        self.note(now, f"EV plugged in at connector {c.id} ({v.energy_wh / 1000:.1f} kWh wanted)")
        if c.authorized_tag is not None:
            self._start_tx(c, c.authorized_tag, now, "CablePluggedIn")
        elif v.id_tag is not None:
            self._authorize(c, v.id_tag, now)
        self._refresh(now)

    def _unplug(self, c: Connector, now: float) -> None:
        self._advance(now)
        c.ev = None  # the cable is out first: the transaction ends without Finishing
        if c.tx is not None:
            self._stop_tx(c, now, "EVDisconnected", "EVDeparted")
        self.note(now, f"EV left connector {c.id}")
        c.finished, c.authorized_tag = False, None
        self._refresh(now)

    def _authorize(self, c: Connector, id_tag: str, now: float) -> None:
        if self.phase is not Phase.ACCEPTED:
            self._authorize_answered(c.id, id_tag, True, now)  # rule 6
            return
        action, payload = self.dialect.authorize(id_tag)
        self._call(action, payload, now, ("authorize", c.id, id_tag))

    def _authorize_answered(self, connector_id: int, id_tag: str, accepted: bool, now: float) -> None:
        c = self.connectors[connector_id - 1]
        self.note(now, f"id tag {id_tag} {'accepted' if accepted else 'refused'}")
        if not accepted or c.tx is not None:
            return
        if c.ev is not None:
            self._start_tx(c, id_tag, now, "Authorized")
        else:
            c.authorized_tag = id_tag

    def _start_tx(self, c: Connector, id_tag: str, now: float, trigger: str) -> None:
        self._tx_counter += 1
        tx_id = self.new_transaction_id() if self.version is OcppVersion.V201 else None
        c.tx = Transaction(
            local=self._tx_counter,
            id=tx_id,
            id_tag=id_tag,
            started=now,
            meter_start_wh=c.register_wh,
            remote_start_id=c.remote_start_id,
        )
        profile, c.remote_profile = c.remote_profile, None
        c.authorized_tag, c.authorized_at, c.remote_start_id = None, None, None
        c.limit = self._limit(c, now)
        c.update_draw()
        c.tx.charging_state = c.charging_state()
        c.next_meter = now + max(1, self.settings.int("meter_interval"))
        self.note(now, f"transaction {c.tx.local} started on connector {c.id} ({trigger})")
        self._queue(self.dialect.tx_message(c, c.tx, Kind.START, now, trigger))
        if profile is not None:
            self.set_profile(replace(profile, evse_id=c.id, transaction_id=None), now)
        self._pump(now)

    def _stop_tx(self, c: Connector, now: float, reason: str, trigger: str) -> None:
        assert c.tx is not None
        self._advance(now)
        tx = c.tx
        self._queue(self.dialect.tx_message(c, tx, Kind.STOP, now, trigger, reason))
        self.note(now, f"transaction {tx.local} stopped ({reason}), {c.register_wh - tx.meter_start_wh:.0f} Wh")
        c.tx = None
        c.finished = c.ev is not None
        self.profiles.end_transaction(c.id)
        self._refresh(now)
        self._pump(now)

    def _meter(self, now: float) -> None:
        interval = max(1, self.settings.int("meter_interval"))
        for c in self.connectors:
            if c.tx is not None and c.next_meter <= now:
                c.update_draw()
                self._queue(self.dialect.tx_message(c, c.tx, Kind.METER, now, "MeterValuePeriodic"))
                c.next_meter = now + interval

    def _queue(self, item: Queued | None) -> None:
        if item is not None:
            self.outbox.put(item)

    def _pump(self, now: float) -> None:
        """Send the outbox head if nothing of it is in flight (rule 3)."""
        while self.phase is Phase.ACCEPTED:
            head = self.outbox.head()
            if head is None or head.in_flight is not None or head.not_before > now:
                return
            payload = self.dialect.resolve(head)
            if payload is None:
                self.note(now, f"{head.action} discarded: its transaction was never started at the CSMS")
                self.outbox.delivered(head)
                self.outbox.discarded += 1
                continue
            head.in_flight = self.session.call(head.action, payload, now, ("outbox", head))
            self._heartbeat_at = now + max(1, self.settings.int("heartbeat_interval"))
            return

    # ================================================================ radio
    def _sample_radio(self, now: float) -> None:
        if self._rssi_sample_at is None or self._rssi_sample_at > now:
            return
        self._rssi_sample_at = now + RSSI_SAMPLE_S
        sample = self.radio.sample(car_present=self.car_present)
        self.rssi = sample
        self.settings.set("signal_strength", str(sample.rssi_dbm))
        periodic = self._rssi_report_at is not None and self._rssi_report_at <= now
        if periodic:
            self._rssi_report_at = now + max(1, self.settings.int("rssi_interval"))
        if self.phase is Phase.ACCEPTED:
            for action, payload in self.dialect.rssi(sample, now, periodic=periodic):
                self._call(action, payload, now)

    # ================================================================ maintenance jobs
    def _run_jobs(self, now: float) -> None:
        busy = any(c.tx is not None for c in self.connectors)
        self._carry_out(self.maintenance.step(now, busy=busy, charger_id=self.charger_id, lines=self.log), now)

    def _carry_out(self, steps: list[maintenance.Step], now: float) -> None:
        for step in steps:
            if isinstance(step, FirmwareStatus):
                self.note(now, f"firmware status {step.status}")
                message = self.dialect.firmware_status(step.status, step.request_id)
                if message is not None:
                    self._call(*message, now)
            elif isinstance(step, LogStatus):
                self._call(*self.dialect.log_status(step.status, step.request_id, step.kind), now)
            elif isinstance(step, RebootInto):
                self._new_version = step.version
                self.boot_reason = "FirmwareUpdate"
                self._reboot_at = now + RELEASE_DELAY_S
            else:
                self._out_effects.append(step)

    def note(self, now: float, text: str) -> None:
        self.log.append(f"{iso(now)} {text}")


def _key(tx: Transaction) -> str:
    """The charger-internal key of a transaction (TxProfiles are matched on it)."""
    return f"local:{tx.local}"


def _dialect(version: OcppVersion, fw: Firmware) -> Dialect:
    if version is OcppVersion.V16:
        from chargewise.simulator.v16.dialect import Dialect16

        return Dialect16(fw)
    from chargewise.simulator.v201.dialect import Dialect201

    return Dialect201(fw)
