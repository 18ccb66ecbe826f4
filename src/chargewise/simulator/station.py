"""The charger's charging side: its connectors, the EVs that visit them, their transactions and the charging
profiles that limit them. Pure like the firmware that owns it: it never awaits and never reads the clock.

Rules (everything that changes a connector lives here or in ``connector.py``):

1. Transaction messages (start, meter values, stop) always go through the bounded :class:`Outbox`, created
   whether or not the charger is online; the firmware sends them one at a time in order (``outbox.py``).
   Status notifications are only sent while Accepted and are lost when offline, as on real chargers.
2. The EV's power follows the composite limit, recomputed by :meth:`Station.refresh` whenever a profile, a
   transaction, a fault, the connection (offline limits) or time changes it; meter values carry what the EV
   draws at that moment.
3. Offline authorization: an id tag presented while offline is decided by the local list, the authorization
   cache and AllowOfflineTxForUnknownId (``local_auth.py``); a reserved connector refuses other tokens, and the
   reserving token's transaction uses (ends) the reservation.
4. An authorization with no EV plugged in lapses after ConnectionTimeOut.

The firmware drives it: :meth:`Station.advance` to move physics to ``now``, :meth:`Station.run_visits` at
:meth:`Station.next_visit_time`, :meth:`Station.meter` at the connectors' ``next_meter``, and
:meth:`Station.refresh` after every step. The dialects call the operations (remote start, stop, profiles).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.frames import Payload
from chargewise.simulator.calls import OTHER, AuthorizeCall, CallContext
from chargewise.simulator.composite import CompositePeriod, Context, Electrical, Limit, composite_schedule, limit_at
from chargewise.simulator.connector import Connector, Transaction
from chargewise.simulator.ev import EV
from chargewise.simulator.local_auth import LocalAuth
from chargewise.simulator.outbox import Kind, Outbox, Queued
from chargewise.simulator.profiles import Profile, ProfileError, ProfileStore, Purpose
from chargewise.simulator.rng import Rng
from chargewise.simulator.settings import Settings
from chargewise.simulator.templates import Template
from chargewise.simulator.views import ConnectorView
from chargewise.simulator.workload import Visit

PHYSICS_STEP_S = 30.0  # how often a plugged EV's state (taper, full) is re-evaluated


class Uplink(Protocol):
    """What the station asks of the firmware's connection to the CSMS (the firmware implements it)."""

    @property
    def accepted(self) -> bool: ...

    @property
    def offline_since(self) -> float | None: ...

    def call(self, action: str, payload: Payload, now: float, ctx: CallContext = OTHER) -> None: ...

    def pump(self, now: float) -> None: ...

    def note(self, now: float, text: str) -> None: ...


class Reporter(Protocol):
    """The messages the station needs built (one OCPP version's dialect implements it)."""

    def status(self, c: Connector | None, now: float) -> list[tuple[str, Payload]]: ...

    def authorize(self, id_tag: str) -> tuple[str, Payload]: ...

    def tx_message(
        self, c: Connector, tx: Transaction, kind: Kind, now: float, trigger: str, reason: str | None = None
    ) -> Queued | None: ...


class Station:
    """One charger's connectors and transactions (rules in the module docstring)."""

    __slots__ = (
        "_physics_last",
        "_tx_counter",
        "_visits",
        "connectors",
        "electrical",
        "local_auth",
        "outbox",
        "physics_at",
        "profiles",
        "reporter",
        "rng",
        "settings",
        "station_reported",
        "template",
        "tx_ids",
        "uplink",
        "version",
    )

    def __init__(
        self,
        *,
        template: Template,
        version: OcppVersion,
        settings: Settings,
        rng: Rng,
        outbox: Outbox,
        reporter: Reporter,
        uplink: Uplink,
        visits: list[Visit],
    ) -> None:
        self.template = template
        self.version = version
        self.settings = settings
        self.rng = rng
        self.outbox = outbox
        self.reporter = reporter
        self.uplink = uplink
        self.electrical = Electrical(
            phases=template.phases, voltage_v=template.voltage_v, max_current_a=template.max_current_a
        )
        self.connectors = [Connector(id=i + 1, voltage_v=template.voltage_v) for i in range(template.connectors)]
        self.profiles = ProfileStore(
            evse_count=template.connectors, quirks=template.quirks, replace_same_slot=version is OcppVersion.V16
        )
        self.tx_ids: dict[int, str] = {}  # local transaction number -> the CSMS's 1.6 transactionId
        self.local_auth = LocalAuth(settings)  # local list, authorization cache, reservations
        self.station_reported: tuple[str, str] | None = None  # last 1.6 connector-0 status sent
        self.physics_at: float | None = None  # when a plugged EV's state must next be re-evaluated
        self._visits = deque(sorted(visits, key=lambda v: v.arrive_s))
        self._tx_counter = 0
        self._physics_last: float | None = None

    # ================================================================ what the firmware reads
    @property
    def transactions(self) -> int:
        """Transactions started since power-on."""
        return self._tx_counter

    @property
    def car_present(self) -> bool:
        return any(c.ev is not None for c in self.connectors)

    @property
    def busy(self) -> bool:
        """A transaction runs on some connector."""
        return any(c.tx is not None for c in self.connectors)

    def tx_id(self, tx: Transaction) -> str | None:
        """The OCPP transactionId of ``tx`` (None: a 1.6 transaction the CSMS has not numbered yet)."""
        return tx.id or self.tx_ids.get(tx.local)

    def connector_views(self) -> tuple[ConnectorView, ...]:
        return tuple(
            ConnectorView(
                id=c.id,
                status=c.status().value,
                power_w=round(c.draw.watts, 1),
                current_a=c.draw.amps,
                offered_a=round(c.offered()[0], 1),
                energy_wh=round(c.register_wh, 1),
                soc=None if c.ev is None else round(c.ev.soc * 100, 1),
                transaction_id=None if c.tx is None else self.tx_id(c.tx),
            )
            for c in self.connectors
        )

    def next_visit_time(self) -> float | None:
        """When an EV arrives or leaves, or an authorization lapses (rule 4)."""
        times = [c.ev.departure for c in self.connectors if c.ev is not None]
        timeout = self.settings.int("connection_timeout")
        times += [c.authorized_at + timeout for c in self.connectors if c.authorized_at is not None and c.ev is None]
        if self._visits:
            times.append(self._visits[0].arrive_s)
        if (expiry := self.local_auth.next_expiry()) is not None:
            times.append(expiry)
        return min(times) if times else None

    def next_meter_times(self) -> list[float]:
        return [c.next_meter for c in self.connectors if c.tx is not None]

    # ================================================================ steps the firmware runs
    def power_on(self, now: float) -> None:
        self._physics_last = now

    def advance(self, now: float) -> None:
        """Move every EV's charging on to ``now``."""
        last = self._physics_last
        if last is not None and now > last:
            for c in self.connectors:
                c.advance(now - last)
        self._physics_last = now

    def refresh(self, now: float) -> None:
        """Recompute every connector's limit, draw and status; report what changed (rule 2)."""
        self._mark_reserved(now)
        for c in self.connectors:
            c.limit = self._limit(c, now)
            c.update_draw()
            if c.pending_inoperative and c.tx is None:
                c.inoperative, c.pending_inoperative = True, None
            if c.tx is not None and c.tx.charging_state != c.charging_state():
                c.tx.charging_state = c.charging_state()
                self._queue(self.reporter.tx_message(c, c.tx, Kind.EVENT, now, "ChargingStateChanged"))
            waited = None if c.authorized_at is None or c.ev is not None else now - c.authorized_at
            if waited is not None and waited >= self.settings.int("connection_timeout"):
                self.uplink.note(now, f"connector {c.id}: no EV within ConnectionTimeOut, authorization dropped")
                c.authorized_tag = c.authorized_at = c.remote_profile = None
        self.physics_at = now + PHYSICS_STEP_S if self.car_present else None
        if self.uplink.accepted:
            self.send_statuses(now, station=False)

    def send_statuses(self, now: float, *, station: bool) -> None:
        """Report every status that changed since it was last sent (``station``: connector 0 too)."""
        if not self.uplink.accepted:
            return
        if station:
            for action, payload in self.reporter.status(None, now):
                self.uplink.call(action, payload, now)
        for c in self.connectors:
            for action, payload in self.reporter.status(c, now):
                self.uplink.call(action, payload, now)

    def forget_reported(self) -> None:
        """After a reboot nothing counts as reported: every status is sent again."""
        for c in self.connectors:
            c.reported = None
        self.station_reported = None

    def run_visits(self, now: float) -> None:
        """Reservations past their expiry end (2.0.1 reports it), EVs whose time has come leave, new ones arrive."""
        for held in self.local_auth.expired(now):
            self.uplink.note(now, f"reservation {held.id} expired")
            if self.version is OcppVersion.V201 and self.uplink.accepted:
                self.uplink.call("ReservationStatusUpdate", {"reservationId": held.id,
                                                              "reservationUpdateStatus": "Expired"}, now)  # fmt: skip
        for c in self.connectors:
            if c.ev is not None and c.ev.departure <= now:
                self._unplug(c, now)
        while self._visits and self._visits[0].arrive_s <= now:
            self._plug_in(self._visits.popleft(), now)

    def meter(self, now: float) -> None:
        """Queue the periodic meter values that are due."""
        interval = max(1, self.settings.int("meter_interval"))
        for c in self.connectors:
            if c.tx is not None and c.next_meter <= now:
                c.update_draw()
                self._queue(self.reporter.tx_message(c, c.tx, Kind.METER, now, "MeterValuePeriodic"))
                c.next_meter = now + interval

    def authorize_answered(self, connector_id: int, id_tag: str, accepted: bool, now: float) -> None:
        """The CSMS's answer to an Authorize (or the offline rule 3): start charging or wait for the EV."""
        c = self.connectors[connector_id - 1]
        self.uplink.note(now, f"id tag {id_tag} {'accepted' if accepted else 'refused'}")
        if self.uplink.accepted:
            self.local_auth.remember(id_tag, accepted)
        if not accepted or c.tx is not None:
            return
        if c.ev is not None:
            self._start_tx(c, id_tag, now, "Authorized")
        else:
            c.authorized_tag = id_tag

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
        held = self.local_auth.holding(c.id, 0.0 if self._physics_last is None else self._physics_last)
        if held is not None and not held.admits(id_tag, None):
            return False
        c.authorized_tag = id_tag
        c.remote_start_id = remote_start_id
        c.remote_profile = profile
        return True

    def after_remote_start(self, c: Connector) -> Callable[[float], None]:
        """What runs once the remote start's answer is sent: start now if an EV waits, else wait for one."""

        def start(now: float) -> None:
            if c.ev is not None and c.tx is None and c.authorized_tag is not None:
                self._start_tx(c, c.authorized_tag, now, "RemoteStart")
            elif c.tx is None:
                c.authorized_at = now
                self.refresh(now)

        return start

    def transaction(self, tx_id: str) -> Connector | None:
        """The connector whose transaction has the OCPP id ``tx_id``."""
        for c in self.connectors:
            if c.tx is not None and self.tx_id(c.tx) == tx_id:
                return c
        return None

    def stop(self, c: Connector, now: float, reason: str, trigger: str) -> None:
        """Stop the transaction on ``c`` (remote stop, reset, unlock, deauthorization). ``reason`` is a
        1.6 Reason / 2.0.1 ReasonEnumType value, ``trigger`` a 2.0.1 TriggerReasonEnumType value."""
        if c.tx is not None:
            self._stop_tx(c, now, reason, trigger)

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
        self.refresh(now)
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
            if profile.transaction_id != self.tx_id(tx):
                why = f"transaction {profile.transaction_id} not running"
                self.uplink.note(now, f"profile {profile.id} rejected: {why}")
                return "Rejected"
            profile = replace(profile, transaction_id=None)
        try:
            self.profiles.install(profile, active_tx=None if tx is None else _key(tx))
        except ProfileError as exc:
            self.uplink.note(now, f"profile {profile.id} rejected: {exc}")
            return "Rejected"
        self.uplink.note(now, f"profile {profile.id} ({profile.purpose.value}, level {profile.stack_level}) installed")
        self.refresh(now)
        return "Accepted"

    def clear_profiles(self, now: float, **criteria: Any) -> int:
        """ClearChargingProfile with ``criteria`` (see :meth:`ProfileStore.clear`): how many were removed."""
        removed = self.profiles.clear(**criteria)
        self.refresh(now)
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

    def resend_statuses(self, connector_id: int | None, now: float) -> None:
        """TriggerMessage StatusNotification: send the statuses of ``connector_id`` (None or 0: all) again."""
        for c in self.connectors:
            if connector_id in (None, 0, c.id):
                c.reported = None
        self.send_statuses(now, station=connector_id in (None, 0))

    def queue_meter_values(self, connector_id: int | None, now: float) -> None:
        """TriggerMessage MeterValues / TransactionEvent: queue a meter reading of every running transaction."""
        for c in self.connectors:
            if c.tx is not None and connector_id in (None, 0, c.id):
                self._queue(self.reporter.tx_message(c, c.tx, Kind.METER, now, "Trigger"))
        self.uplink.pump(now)

    def new_transaction_id(self) -> str:
        """A 2.0.1 transactionId: a UUID from the seeded RNG (the same seed gives the same ids)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # ================================================================ connectors and transactions
    def _limit(self, c: Connector, now: float) -> Limit:
        ctx = Context() if c.tx is None else Context(tx_id=_key(c.tx), tx_start=c.tx.started)
        limit = limit_at(self.profiles.relevant(c.id), now, evse_id=c.id, electrical=self.electrical, ctx=ctx)
        offline_a, since = self.template.quirks.offline_limit_a, self.uplink.offline_since
        if offline_a is not None and since is not None and now - since >= self.template.quirks.offline_after_s:
            limit = Limit(amps=min(limit.amps, offline_a), phases=limit.phases, voltage_v=limit.voltage_v)
        return limit

    def _plug_in(self, v: Visit, now: float) -> None:
        c = self.connectors[v.connector - 1] if v.connector <= len(self.connectors) else None
        if c is None or c.ev is not None or c.fault is not None or c.inoperative or v.depart_s <= now:
            self.uplink.note(now, f"EV turned away at connector {v.connector}")
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
        self.uplink.note(now, f"EV plugged in at connector {c.id} ({v.energy_wh / 1000:.1f} kWh wanted)")
        if c.authorized_tag is not None:
            self._start_tx(c, c.authorized_tag, now, "CablePluggedIn")
        elif v.id_tag is not None:
            self._authorize(c, v.id_tag, now)
        self.refresh(now)

    def _unplug(self, c: Connector, now: float) -> None:
        self.advance(now)
        c.ev = None  # the cable is out first: the transaction ends without Finishing
        if c.tx is not None:
            self._stop_tx(c, now, "EVDisconnected", "EVDeparted")
        self.uplink.note(now, f"EV left connector {c.id}")
        c.finished, c.authorized_tag = False, None
        self.refresh(now)

    def _authorize(self, c: Connector, id_tag: str, now: float) -> None:
        held = self.local_auth.holding(c.id, now)
        if held is not None and not held.admits(id_tag, None):
            self.uplink.note(now, f"connector {c.id} is reserved (reservation {held.id}) for another token")
            self.authorize_answered(c.id, id_tag, False, now)
            return
        if not self.uplink.accepted:  # rule 3
            accepted, by = self.local_auth.offline(id_tag, now)
            self.uplink.note(now, f"offline: id tag {id_tag} decided by the {by}")
            self.authorize_answered(c.id, id_tag, accepted, now)
            return
        action, payload = self.reporter.authorize(id_tag)
        self.uplink.call(action, payload, now, AuthorizeCall(connector_id=c.id, id_tag=id_tag))

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
        held = self.local_auth.holding(c.id, now)
        if held is not None and held.admits(id_tag, None):  # the reservation is used: it ends here
            c.tx.reservation_id = held.id
            self.local_auth.cancel(held.id)
        profile, c.remote_profile = c.remote_profile, None
        c.authorized_tag, c.authorized_at, c.remote_start_id = None, None, None
        c.limit = self._limit(c, now)
        c.update_draw()
        c.tx.charging_state = c.charging_state()
        c.next_meter = now + max(1, self.settings.int("meter_interval"))
        self.uplink.note(now, f"transaction {c.tx.local} started on connector {c.id} ({trigger})")
        self._queue(self.reporter.tx_message(c, c.tx, Kind.START, now, trigger))
        if profile is not None:
            self.set_profile(replace(profile, evse_id=c.id, transaction_id=None), now)
        self.uplink.pump(now)

    def _stop_tx(self, c: Connector, now: float, reason: str, trigger: str) -> None:
        assert c.tx is not None
        self.advance(now)
        tx = c.tx
        self._queue(self.reporter.tx_message(c, tx, Kind.STOP, now, trigger, reason))
        self.uplink.note(now, f"transaction {tx.local} stopped ({reason}), {c.register_wh - tx.meter_start_wh:.0f} Wh")
        c.tx = None
        c.finished = c.ev is not None
        self.profiles.end_transaction(c.id)
        self.refresh(now)
        self.uplink.pump(now)

    def _mark_reserved(self, now: float) -> None:
        """Which connectors show Reserved: those with a reservation of their own, all with one of the charger's."""
        held = {r.connector for r in self.local_auth.reservations.values() if r.expires > now}
        for c in self.connectors:
            c.reserved = c.id in held or 0 in held

    def _queue(self, item: Queued | None) -> None:
        if item is not None:
            self.outbox.put(item)


def _key(tx: Transaction) -> str:
    """The charger-internal key of a transaction (TxProfiles are matched on it)."""
    return f"local:{tx.local}"
