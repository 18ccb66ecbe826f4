"""The charger's firmware: one version-neutral state machine on the charger side of the sans-I/O OCPP session.
It never awaits and never reads the clock; the driver feeds it and carries out what it asks.

It runs the charger's lifecycle (power on, connect, boot, reboot, reset, firmware install) and delegates
the rest by aspect:

- ``lifecycle.py``: the phases (OFF, OFFLINE, BOOTING, ACCEPTED, REBOOTING) and the reconnect back-off;
- ``link.py``: the OCPP connection: what may be sent in which phase, heartbeats, the outbox pump, answers;
- ``station.py``: connectors, EV visits, transactions and charging profiles (the station's rules);
- ``outbox.py``: transaction messages, delivered reliably and in order;
- ``security.py``: security events kept until the charger is Accepted;
- ``maintenance.py``: firmware updates and log uploads;
- the dialect (``v16/dialect.py``, ``v201/dialect.py``): every message in one OCPP version's words.

Everything that is not a transaction message is only sent while Accepted and is lost when offline, as on
real chargers.

Drive it: :meth:`power_on`; connect at :attr:`connect_at` and report :meth:`connected` /
:meth:`connect_failed` / :meth:`disconnected`; feed every text frame to :meth:`receive`; call :meth:`tick`
at :meth:`next_deadline`; after each call send :meth:`outgoing` and carry out :meth:`effects`.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.frames import Payload
from chargewise.ocpp.session import Role, Session
from chargewise.simulator import maintenance
from chargewise.simulator.calls import OTHER, CallContext, HeartbeatCall
from chargewise.simulator.clock import iso
from chargewise.simulator.connector import Connector
from chargewise.simulator.credentials import Credentials
from chargewise.simulator.faults import RadioSample
from chargewise.simulator.lifecycle import Phase, reconnect_wait
from chargewise.simulator.link import Link
from chargewise.simulator.maintenance import FirmwareStatus, LogStatus, Maintenance, RebootInto
from chargewise.simulator.outbox import Outbox
from chargewise.simulator.ports import Charger, Dialect, Disconnect, Effect, Radio
from chargewise.simulator.rng import Rng
from chargewise.simulator.security import SecurityEvents
from chargewise.simulator.settings import Settings
from chargewise.simulator.station import Station
from chargewise.simulator.templates import Template
from chargewise.simulator.v16.dialect import Dialect16
from chargewise.simulator.v201.dialect import Dialect201
from chargewise.simulator.views import ChargerView
from chargewise.simulator.workload import Visit

RSSI_SAMPLE_S = 30.0  # how often the radio's RSSI is read for monitors and WeakSignal (dialects)
RELEASE_DELAY_S = 2.0  # a reset waits this long for stop messages before rebooting
LOG_LINES = 64  # the event log kept for diagnostics uploads (small: an ESP32 has little RAM)


class Firmware:
    """One simulated charger's behaviour (rules in the module docstrings named above)."""

    __slots__ = (
        "_attempt",
        "_boot_retry_at",
        "_installed",
        "_needs_boot",
        "_new_version",
        "_out_effects",
        "_pending_reset",
        "_reboot_at",
        "_reset_when_idle",
        "_rssi_report_at",
        "_rssi_sample_at",
        "_security",
        "boot_reason",
        "charger_id",
        "connect_at",
        "credentials",
        "dialect",
        "failures",
        "firmware_version",
        "link",
        "log",
        "maintenance",
        "offline_since",
        "outbox",
        "radio",
        "registered",
        "rng",
        "rssi",
        "serial",
        "settings",
        "station",
        "stats",
        "template",
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
        self.outbox = Outbox(template.offline_queue_limit)
        self.firmware_version = template.firmware_version
        self.serial = f"{template.serial_prefix}{self.rng.randrange(10**8):08d}"
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.credentials = Credentials(charger_id=charger_id, profile=template.security_profile)
        self.dialect: Dialect = _dialect(version, self)
        self.station = Station(
            template=template,
            version=version,
            settings=self.settings,
            rng=self.rng,
            outbox=self.outbox,
            reporter=self.dialect,
            uplink=self,
            visits=visits or [],
        )
        session = Session(
            version=version,
            role=Role.CHARGER,
            supported=self.dialect.supported,
            call_timeout=call_timeout or template.keepalive.call_timeout_s,
        )
        self.link = Link(
            session=session, dialect=self.dialect, outbox=self.outbox, settings=self.settings, template=template,
            answers=self,
        )  # fmt: skip
        self.connect_at: float | None = None
        self.registered = False
        self.boot_reason = "PowerUp"
        self.rssi: RadioSample | None = None
        self.weak_signal = False
        self.stats: dict[str, int] = {"connects": 0, "disconnects": 0, "boots": 0, "connect_failures": 0}
        self.failures: Counter[str] = Counter()  # connection failures by stage (association, dns, tls, tcp...)
        self.offline_since: float | None = None
        self._attempt = 0
        self._out_effects: list[Effect] = []
        self._security = SecurityEvents()
        self._boot_retry_at: float | None = None
        self._rssi_sample_at: float | None = None
        self._rssi_report_at: float | None = None
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
        self.station.power_on(now)
        self.connect_at = now + self.template.boot_time_s
        self._rssi_sample_at = now + RSSI_SAMPLE_S
        self.note(now, f"power on, firmware {self.firmware_version}")

    def connected(self, now: float) -> None:
        """The WebSocket is open."""
        self.station.advance(now)
        self.stats["connects"] += 1
        self._attempt = 0
        self.credentials.connected()
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
            self._security.tls_failed(now, detail)
        self.note(now, f"connect failed at {stage}: {detail}")
        fallback = self.credentials.connect_failed()
        if fallback is not None:
            self.note(now, fallback)
        self._schedule_reconnect(now)

    def disconnected(self, now: float, *, closed_by_server: bool = False) -> None:
        """The connection is gone; ``closed_by_server``: the server sent a WebSocket close frame."""
        self.station.advance(now)
        self.link.drop()
        self._boot_retry_at = None
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
        self.station.advance(now)
        self.link.receive(data, now)
        self._refresh(now)

    def tick(self, now: float) -> None:
        """Run every timer due by ``now``."""
        self.station.advance(now)
        self.link.expire(now)
        self.station.run_visits(now)
        self.link.send_delayed(now)
        if self._reboot_at is not None and self._reboot_at <= now:
            self._reboot_at = None
            self._reboot(now)
        if self.phase is Phase.BOOTING and self._boot_retry_at is not None and self._boot_retry_at <= now:
            self._send_boot(now)
        self.link.heartbeat(now)
        self.station.meter(now)
        self._sample_radio(now)
        self._run_jobs(now)
        self._refresh(now)
        self.pump(now)

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
        self.station.advance(now)
        c = self.connectors[connector_id - 1]
        c.fault = error_code
        self.note(now, f"connector {connector_id} fault {error_code or 'cleared'}")
        self._refresh(now)

    # ================================================================ driver outputs
    def outgoing(self) -> list[bytes]:
        return self.link.session.outgoing()

    def effects(self) -> list[Effect]:
        out, self._out_effects = self._out_effects, []
        return out

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next run (None: nothing is scheduled)."""
        times: list[float | None] = [
            *self.link.deadlines(),
            self.station.next_visit_time(),
            self._reboot_at,
            self._boot_retry_at if self.phase is Phase.BOOTING else None,
            self.station.physics_at,
            self._rssi_sample_at,
            self.maintenance.next_deadline(),
            *self.station.next_meter_times(),
        ]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    @property
    def connectors(self) -> list[Connector]:
        return self.station.connectors

    @property
    def tx_ids(self) -> dict[int, str]:
        """Local transaction number -> the CSMS's 1.6 transactionId."""
        return self.station.tx_ids

    @property
    def transactions(self) -> int:
        """Transactions started since power-on."""
        return self.station.transactions

    @property
    def car_present(self) -> bool:
        return self.station.car_present

    @property
    def accepted(self) -> bool:
        """The CSMS accepted this charger on the current connection: everything may be sent."""
        return self.link.accepted

    @property
    def phase(self) -> Phase:
        return self.link.phase

    @phase.setter
    def phase(self, phase: Phase) -> None:
        self.link.phase = phase

    def view(self) -> ChargerView:
        return ChargerView(
            charger_id=self.charger_id,
            template=self.template.name,
            version=self.version.value,
            phase=self.phase.value,
            firmware_version=self.firmware_version,
            rssi_dbm=None if self.rssi is None else self.rssi.rssi_dbm,
            queued=len(self.outbox),
            connectors=self.station.connector_views(),
        )

    # ================================================================ operations the dialects call
    def reset(self, now: float, *, reason: str, stop_reason: str, on_idle: bool = False) -> str:
        """Reboot (after the answer is sent): stop transactions now, or wait for them to end (``on_idle``)."""
        if on_idle and self.station.busy:
            self._reset_when_idle = reason
            return "Scheduled"
        self._pending_reset = (reason, stop_reason)
        return "Accepted"

    def after_reset(self) -> Callable[[float], None]:
        """What runs once the Reset's answer is sent: stop every transaction, reboot shortly after."""

        def go(now: float) -> None:
            reason, stop_reason = self._pending_reset
            for c in self.connectors:
                self.station.stop(c, now, stop_reason, "ResetCommand")
            self.boot_reason = reason
            self._reboot_at = now + RELEASE_DELAY_S

        return go

    def reconnect(self, now: float, reason: str) -> None:
        """Close the link and connect again (with new credentials): no reboot, transactions go on."""
        self.note(now, f"reconnecting: {reason}")
        self._out_effects.append(Disconnect(reason=reason))

    def trigger(self, what: str, connector_id: int | None) -> Callable[[float], None] | None:
        """A TriggerMessage: the function that sends the message after the answer (None: not implemented)."""
        if what == "BootNotification":
            return lambda now: self._send_boot(now, reason="Triggered")
        if what == "Heartbeat":
            return lambda now: self.link.call("Heartbeat", {}, now, HeartbeatCall())
        if what == "StatusNotification":
            return lambda now: self.station.resend_statuses(connector_id, now)
        if what in ("MeterValues", "TransactionEvent"):
            return lambda now: self.station.queue_meter_values(connector_id, now)
        if what == "FirmwareStatusNotification":
            return lambda now: self._carry_out([self.maintenance.firmware_status()], now)
        if what in ("DiagnosticsStatusNotification", "LogStatusNotification"):
            kind = "diagnostics" if what == "DiagnosticsStatusNotification" else "log"
            return lambda now: self._carry_out([self.maintenance.log_status(kind)], now)
        return None

    def update_firmware(
        self, url: str, retrieve_at: float, retries: int, interval: float, request_id: int | None,
        signed: tuple[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.stats["firmware_updates"] = self.stats.get("firmware_updates", 0) + 1
        if self.station.busy:  # for tests: a CSMS should not update a charger in a session (1.6 installs at once)
            self.stats["update_while_charging"] = self.stats.get("update_while_charging", 0) + 1
        self.maintenance.update_firmware(url, retrieve_at, retries, interval, request_id, signed=signed,
                                         how=self.template.ota)  # fmt: skip

    def upload_log(self, url: str, request_id: int | None, retries: int, interval: float, kind: str, now: float) -> str:
        return self.maintenance.upload_log(self.charger_id, url, request_id, retries, interval, kind, now)

    def send(self, action: str, payload: Payload, now: float) -> None:
        """Send a non-transactional message (only while Accepted; otherwise it is lost, as on real chargers)."""
        self.call(action, payload, now)

    def now_iso(self, t: float) -> str:
        return iso(t)

    def note(self, now: float, text: str) -> None:
        """Add a line to the event log (uploaded with diagnostics)."""
        self.log.append(f"{iso(now)} {text}")

    # ================================================================ the station's uplink (see link.py)
    def call(self, action: str, payload: Payload, now: float, ctx: CallContext = OTHER) -> None:
        """Send ``action`` if the phase allows it (only BootNotification before Accepted); else it is lost."""
        self.link.call(action, payload, now, ctx)

    def pump(self, now: float) -> None:
        """Send the next transaction message if the outbox allows it."""
        self.link.pump(now)

    # ================================================================ answers the link hands back
    def authorize_answered(self, connector_id: int, id_tag: str, accepted: bool, now: float) -> None:
        self.station.authorize_answered(connector_id, id_tag, accepted, now)

    def boot_answered(self, payload: Payload, now: float) -> None:
        """The CSMS answered a BootNotification: Accepted (the charger may send everything) or try again later."""
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
            self._security.add(kind, f"boot reason {self.boot_reason}", now)
        self._needs_boot = False
        self.boot_reason = "Unknown"
        self._accepted(now)

    def boot_failed(self, now: float) -> None:
        self._boot_retry_at = now + self.template.keepalive.boot_retry_s

    # ================================================================ connection and boot
    def _send_boot(self, now: float, reason: str | None = None) -> None:
        self._boot_retry_at = None
        action, payload = self.dialect.boot(reason or self.boot_reason)
        self.link.send_boot(action, payload, now)

    def _accepted(self, now: float) -> None:
        self.phase = Phase.ACCEPTED
        self.offline_since = None
        self.link.start_heartbeats(now)
        self._rssi_report_at = now + 5.0 if self.settings.int("rssi_interval") > 0 else None
        self.station.send_statuses(now, station=True)
        self._flush_security(now)
        if self._installed is not None:
            installed, self._installed = self._installed, None
            self._carry_out([installed], now)
            self._security_event("FirmwareUpdated", f"installed {self.firmware_version}", now)
        self._refresh(now)
        self.pump(now)

    def _schedule_reconnect(self, now: float) -> None:
        self.connect_at = now + reconnect_wait(self._attempt, self.settings, self.rng)
        self._attempt += 1

    def _reboot(self, now: float) -> None:
        self.note(now, f"rebooting ({self.boot_reason})")
        self._out_effects.append(Disconnect(reason=f"reboot: {self.boot_reason}"))
        self.link.drop()
        self.phase = Phase.REBOOTING
        self.registered = False
        self._needs_boot = True
        self.station.forget_reported()
        self.radio.reboot()
        self.credentials.rebooted()
        installed = self.maintenance.rebooted()
        if installed is not None and self._new_version:
            self.firmware_version = self._new_version
            self.settings.set("firmware_version", self.firmware_version)
            self._installed = installed
        self.connect_at = now + self.template.boot_time_s
        self.offline_since = now
        self._refresh(now)

    def _flush_security(self, now: float) -> None:
        for event in self._security.drain():
            action, payload = self.dialect.security_event(event.kind, event.info, event.at)
            self.call(action, payload, now)

    def _security_event(self, kind: str, info: str, now: float) -> None:
        self._security.add(kind, info, now)
        if self.phase is Phase.ACCEPTED:
            self._flush_security(now)

    def _refresh(self, now: float) -> None:
        """Recompute the station (limits, draw, statuses); reboot if a reset waited for the transactions to end."""
        self.station.refresh(now)
        if self._reset_when_idle is not None and not self.station.busy:
            self.boot_reason = self._reset_when_idle
            self._reset_when_idle = None
            self._reboot_at = now + RELEASE_DELAY_S

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
                self.call(action, payload, now)

    # ================================================================ maintenance jobs
    def _run_jobs(self, now: float) -> None:
        steps = self.maintenance.step(now, busy=self.station.busy, charger_id=self.charger_id, lines=self.log)
        self._carry_out(steps, now)

    def _carry_out(self, steps: list[maintenance.Step], now: float) -> None:
        for step in steps:
            if isinstance(step, FirmwareStatus):
                self.note(now, f"firmware status {step.status}")
                message = self.dialect.firmware_status(step.status, step.request_id)
                if message is not None:
                    self.call(*message, now)
            elif isinstance(step, LogStatus):
                self.call(*self.dialect.log_status(step.status, step.request_id, step.kind), now)
            elif isinstance(step, RebootInto):
                if self.station.busy:
                    self.stats["reboot_while_charging"] = self.stats.get("reboot_while_charging", 0) + 1
                self._new_version = step.version
                self.boot_reason = "FirmwareUpdate"
                self._reboot_at = now + RELEASE_DELAY_S
            else:
                self._out_effects.append(step)


def _dialect(version: OcppVersion, charger: Charger) -> Dialect:
    return Dialect16(charger) if version is OcppVersion.V16 else Dialect201(charger)
