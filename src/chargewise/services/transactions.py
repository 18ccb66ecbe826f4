"""Transactions: the charging sessions chargers report, as version-neutral use cases. Handlers translate the
1.6 and 2.0.1 messages into these calls; every call that acknowledges something returns after it is stored.

Reaper stops are ``provisional``: the charger's own stop, if it comes after all, replaces them once.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import msgspec

from chargewise.domain.model import REAPED, Authorization, ConnectorStatus, MeterValue, TokenStatus, Transaction
from chargewise.domain.ports import Clock, NewTransaction, Store, TransactionFacts
from chargewise.services.ev_connection import EvConnectionTimeouts
from chargewise.services.events import EventHub, Kind
from chargewise.services.presence import Presence
from chargewise.services.remote_starts import GRACE, RemoteStart, RemoteStarts, StartReport

#: why the reaper closed a transaction that a newer one on the same EVSE replaced
SUPERSEDED = f"{REAPED}a newer transaction started on its EVSE, no stop received"
#: why the reaper closed a transaction whose connector reported Available
CONNECTOR_FREE = f"{REAPED}connector free, no stop received"
#: connector statuses only a plugged-in cable gives (1.6 Preparing is left out: authorizing first gives it too)
CABLE_STATUSES = frozenset({ConnectorStatus.OCCUPIED, ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV,
                            ConnectorStatus.SUSPENDED_EVSE, ConnectorStatus.FINISHING})  # fmt: skip
#: 2.0.1 triggerReason and chargingState values that only come with the cable in
CABLE_TRIGGERS = frozenset({"CablePluggedIn", "EVDetected"})
CABLE_STATES = frozenset({"EVConnected", "Charging", "SuspendedEV", "SuspendedEVSE"})

Authorize = Callable[[str], Awaitable[Authorization]]
#: a second look at a token that starts a transaction (reservations): the answer to give, given the first
Admit = Callable[[NewTransaction, Authorization, int], Awaitable[Authorization]]


class EventType(enum.StrEnum):
    STARTED = "Started"
    UPDATED = "Updated"
    ENDED = "Ended"


@dataclass(frozen=True, kw_only=True, slots=True)
class TransactionEvent:
    """A 2.0.1 TransactionEvent, translated. ``meter_values`` carry no transaction or EVSE yet."""

    charger_id: str
    remote_id: str
    event_type: EventType
    at: datetime
    seq_no: int
    evse_id: int | None
    connector_id: int | None
    id_tag: str | None
    trigger_reason: str
    charging_state: str | None = None
    remote_start_id: int | None = None
    stopped_reason: str | None = None
    meter_values: tuple[MeterValue, ...] = ()
    reservation_id: int | None = None

    @property
    def shows_cable(self) -> bool:
        """Whether the event says the cable is in (the transaction may have begun without it)."""
        return self.trigger_reason in CABLE_TRIGGERS or self.charging_state in CABLE_STATES


class Owner(NamedTuple):
    charger_id: str
    evse_id: int
    stopped: bool  # by the charger's own stop (a provisional one may still be replaced)


class Transactions:
    """Transaction use cases over one store; ``CentralSystem`` builds one (``central.transactions``)."""

    def __init__(self, *, store: Store, clock: Clock, authorize: Authorize) -> None:
        self.store = store
        self.clock = clock
        self._authorize = authorize
        self.timeouts = EvConnectionTimeouts()
        self.remote_starts = RemoteStarts()
        self.presence = Presence()
        self._owners: dict[int, Owner] = {}
        #: told of the meter values that came inside transaction events, once stored (the telemetry)
        self.on_meter: Callable[[list[MeterValue]], None] = _ignore
        #: told of every transaction started and stopped (Kind.TRANSACTION); ``CentralSystem`` sets it
        self.events: EventHub | None = None
        #: reservations' word on a token that starts a transaction (``CentralSystem.admit_start``)
        self.admit: Admit | None = None

    # ------------------------------------------------------------------ starting
    async def start(self, new: NewTransaction, report: StartReport | None = None) -> tuple[Transaction, Authorization]:
        """Open (or, for a retried message, find) the transaction. It is recorded even when the token is
        refused: the charger may already be delivering energy, and the answer tells it to stop. A new one
        takes the remote start that caused it (``report``), and closes any older one still open on its EVSE
        (its stop went missing) with a provisional stop."""
        auth = await self._authorize(new.id_tag) if new.id_tag else Authorization(status=TokenStatus.ACCEPTED)
        tx, created = await self.store.start_transaction(new)
        if self.admit is not None and new.id_tag:
            auth = await self.admit(new, auth, tx.id)
        if created:
            tx = await self._link_remote_start(tx, report or StartReport(evse_id=new.evse_id, id_tag=new.id_tag))
            # closed when the new one began, or now if that lies ahead (a charger's clock running fast)
            await self.reap(new.charger_id, reason=SUPERSEDED, started_before=new.started_at, evse_id=new.evse_id,
                            stopped_at=min(new.started_at, self.clock.now()))  # fmt: skip
            self.tell(tx)
        self._remember(tx)
        return tx, auth

    async def _link_remote_start(self, tx: Transaction, report: StartReport) -> Transaction:
        since = self.clock.now() - self.timeouts.timeout(tx.charger_id) - GRACE
        claimed = self.remote_starts.claim(tx.charger_id, report, since=since)
        if claimed is None:
            return tx
        facts = TransactionFacts(id_tag=claimed.id_tag, remote_start_id=claimed.remote_start_id)
        return await self.store.amend_transaction(tx.id, facts) or tx

    async def observe_call(self, charger_id: str, action: str, payload: dict[str, Any], answer: dict[str, Any]) -> None:
        """Learn from a command the server sent and the charger answered (``Registry``'s observer): remote
        starts and EV-connection timeouts."""
        self.timeouts.observe_call(charger_id, action, payload, answer)
        if action not in ("RequestStartTransaction", "RemoteStartTransaction") or answer.get("status") != "Accepted":
            return
        token = payload.get("idToken")
        id_tag = token.get("idToken") if isinstance(token, dict) else payload.get("idTag")
        evse = payload.get("evseId", payload.get("connectorId"))
        remote_id = answer.get("transactionId")
        if not isinstance(id_tag, str):
            return
        start = RemoteStart(
            id_tag=id_tag, sent_at=self.clock.now(), remote_start_id=_int(payload.get("remoteStartId")),
            evse_id=_int(evse), remote_id=remote_id if isinstance(remote_id, str) else None,
        )  # fmt: skip
        existing = await self.store.find_by_remote_id(charger_id, start.remote_id) if start.remote_id else None
        if existing is None:
            self.remote_starts.sent(charger_id, start)
        else:  # the charger had begun it (authorized) before the command came
            facts = TransactionFacts(id_tag=start.id_tag, remote_start_id=start.remote_start_id)
            await self.store.amend_transaction(existing.id, facts)

    def note_report(self, charger_id: str, report_data: list[Any]) -> None:
        """A NotifyReport's ``reportData``: learn the EV-connection timeout from it."""
        self.timeouts.observe_report(charger_id, report_data)

    # ------------------------------------------------------------------ 2.0.1 TransactionEvent
    async def event(self, ev: TransactionEvent) -> tuple[Transaction, Authorization | None]:
        """Store a TransactionEvent, once per seqNo; the authorization to answer (None: no token was sent).

        Order of writes, so that a crash at any point loses nothing acknowledged and stores nothing twice:
        the transaction row (found again by its transactionId on a retry), what the event adds to it (an
        EVSE, a start reading, the cable: each only fills in what is unknown), then the event's seqNo with
        its meter values in one database transaction. For Ended, the stop and the meter values come first,
        in one database transaction that only the stop which closes it makes, then the seqNo. A retry after a
        crash between two of these writes finds the seqNo unrecorded and replays the event: each write it
        repeats is one that finds its work done."""
        tx = await self.store.find_by_remote_id(ev.charger_id, ev.remote_id)
        auth = None if ev.id_tag is None else Authorization(status=TokenStatus.ACCEPTED)
        if tx is None:  # Started, or the first event we hear of a transaction whose Started was lost
            tx, started = await self.start(_new_transaction(ev), _start_report(ev))
            auth = started if auth is not None else None
        elif ev.id_tag:  # "" is a NoAuthorization token: nothing to authorize, as for Started
            auth = await self._authorize(ev.id_tag)
        if await self.store.has_event(tx.id, ev.seq_no):  # a retry of an event we stored: acknowledge
            return tx, auth
        tx = await self._amend(tx, ev)
        values = [msgspec.structs.replace(v, transaction_id=tx.id, evse_id=tx.evse_id) for v in ev.meter_values]
        if ev.event_type is EventType.ENDED:
            ended = await self.store.stop_transaction(
                tx.id, stopped_at=ev.at, meter_stop_wh=last_register(values), reason=ev.stopped_reason or "Local",
                meter_values=values,
            )  # fmt: skip
            self._remember(tx, stopped=True)
            await self.store.accept_event(tx.id, ev.seq_no)
            if ended is not None:
                self.tell(ended)
        else:
            await self.store.accept_event(tx.id, ev.seq_no, meter_values=values)
        if values:
            self.on_meter(values)
        return tx, auth

    async def _amend(self, tx: Transaction, ev: TransactionEvent) -> Transaction:
        facts = TransactionFacts(
            evse_id=ev.evse_id if tx.evse_id == 0 else None, connector_id=ev.connector_id,
            meter_start_wh=first_register(ev.meter_values) if tx.meter_start_wh is None else None,
            ev_connected=ev.shows_cable and not tx.ev_connected,
            id_tag=ev.id_tag if ev.id_tag and not tx.id_tag else None,  # plugged in first, authorized later
        )  # fmt: skip
        if facts.evse_id is None and facts.meter_start_wh is None and not facts.ev_connected and facts.id_tag is None:
            return tx
        amended = await self.store.amend_transaction(tx.id, facts) or tx
        self._remember(amended)
        return amended

    # ------------------------------------------------------------------ 1.6 StopTransaction and MeterValues
    async def stop(
        self,
        charger_id: str,
        transaction_id: int,
        *,
        stopped_at: datetime,
        meter_stop_wh: float | None,
        reason: str,
        meter_values: Sequence[MeterValue] = (),
    ) -> Transaction | None:
        """Close the charger's transaction with the charger's own stop (it replaces a reaper's); ``meter_values``
        (its transactionData) are stored with it, leaving out the readings already stored from MeterValues
        (Transaction.Begin / End sent both ways). None: not this charger's transaction (acknowledge anyway)."""
        tx = await self.store.get_transaction(transaction_id)
        if tx is None or tx.charger_id != charger_id:
            return None
        bound = [msgspec.structs.replace(v, transaction_id=tx.id, evse_id=tx.evse_id) for v in meter_values]
        fresh = new_readings(bound, await self.store.meter_values(tx.id)) if bound else []
        done = await self.store.stop_transaction(
            tx.id, stopped_at=stopped_at, meter_stop_wh=meter_stop_wh, reason=reason, meter_values=fresh
        )
        if done is not None:
            self._remember(done, stopped=not done.provisional)
            self.tell(done)
        return done

    async def meter_values(
        self, charger_id: str, transaction_id: int | None, values: list[MeterValue]
    ) -> list[MeterValue]:
        """What to store of a MeterValues naming ``transaction_id``: linked to it if it is this charger's and
        open; after the charger's stop, the readings it stored already are left out and the rest are kept
        apart (unlinked), so that the transaction's samples agree with its energy."""
        owner = await self.owner(transaction_id) if transaction_id is not None else None
        if owner is None or owner.charger_id != charger_id:
            return [msgspec.structs.replace(v, transaction_id=None) for v in values] if transaction_id else values
        if not owner.stopped:
            return values
        assert transaction_id is not None
        fresh = new_readings(values, await self.store.meter_values(transaction_id))
        return [msgspec.structs.replace(v, transaction_id=None) for v in fresh]

    async def owner(self, transaction_id: int) -> Owner | None:
        """Who a transaction belongs to, from memory when possible: MeterValues name their transaction on every
        message, and a database read each time would cost more than the write."""
        owner = self._owners.get(transaction_id)
        if owner is None:
            tx = await self.store.get_transaction(transaction_id)
            if tx is None:
                return None
            owner = self._remember(tx, stopped=tx.stopped_at is not None and not tx.provisional)
        return owner

    def _remember(self, tx: Transaction, *, stopped: bool | None = None) -> Owner:
        if len(self._owners) > 200_000:  # bounded: forget the oldest half
            for key in list(self._owners)[:100_000]:
                del self._owners[key]
        known = self._owners.get(tx.id)
        was_stopped = known.stopped if known is not None else False
        owner = self._owners[tx.id] = Owner(tx.charger_id, tx.evse_id, was_stopped if stopped is None else stopped)
        return owner

    # ------------------------------------------------------------------ connectors and reaping
    async def connector_status(self, charger_id: str, evse_id: int, status: ConnectorStatus, at: datetime) -> None:
        """After the status is recorded: a cable status marks the EVSE's open transactions as having seen the
        cable; Available closes the ones the charger lost (provisionally): those that saw the cable, or
        that began longer ago than the charger's EV-connection timeout (a driver who authorized first may
        still be plugging in until then, and the transaction is not lost)."""
        if status not in CABLE_STATUSES and status is not ConnectorStatus.AVAILABLE:
            return
        open_here = [t for t in await self.store.active_transactions(charger_id) if t.evse_id == evse_id]
        for tx in open_here:
            if status in CABLE_STATUSES and not tx.ev_connected and tx.started_at <= at:
                await self.store.amend_transaction(tx.id, TransactionFacts(ev_connected=True))
            elif status is ConnectorStatus.AVAILABLE and self._lost(tx, at):
                stopped_at = self.presence.stop_time(charger_id, tx.started_at, self.clock.now())
                done = await self.store.stop_transaction(
                    tx.id, stopped_at=stopped_at, meter_stop_wh=tx.last_meter_wh, reason=CONNECTOR_FREE,
                    provisional=True,
                )  # fmt: skip
                if done is not None:
                    self.tell(done)

    def _lost(self, tx: Transaction, free_at: datetime) -> bool:
        if tx.started_at >= free_at:
            return False
        start, last = tx.meter_start_wh, tx.last_meter_wh
        delivered = start is not None and last is not None and last > start
        return tx.ev_connected or delivered or free_at - tx.started_at >= self.timeouts.timeout(tx.charger_id)

    async def reap(
        self,
        charger_id: str,
        *,
        reason: str,
        started_before: datetime,
        evse_id: int | None = None,
        stopped_at: datetime | None = None,
    ) -> list[Transaction]:
        """Close provisionally the charger's transactions (on ``evse_id``, or all) that began before
        ``started_before`` and were never stopped, with the last known register reading, as stopped at
        ``stopped_at`` (default: now); return them."""
        closed = []
        for tx in await self.store.active_transactions(charger_id):
            if tx.started_at < started_before and (evse_id is None or tx.evse_id == evse_id):
                done = await self.store.stop_transaction(
                    tx.id, stopped_at=stopped_at or self.clock.now(), meter_stop_wh=tx.last_meter_wh, reason=reason,
                    provisional=True,
                )  # fmt: skip
                if done is not None:
                    closed.append(done)
                    self.tell(done)
        return closed

    def tell(self, tx: Transaction) -> None:
        """Publish the transaction's start or stop (``Kind.TRANSACTION``) to the event hub, if there is one."""
        if self.events is None:
            return
        at = tx.stopped_at or tx.started_at
        self.events.publish(Kind.TRANSACTION, at, tx.charger_id, transaction_event(tx))


def transaction_event(tx: Transaction) -> dict[str, Any]:
    """The data of a :data:`Kind.TRANSACTION` event."""
    start, last = tx.meter_start_wh, tx.meter_stop_wh if tx.stopped_at else tx.last_meter_wh
    energy = last - start if start is not None and last is not None else None
    return {"state": "stopped" if tx.stopped_at else "started", "transaction_id": tx.id, "remote_id": tx.remote_id,
            "evse": tx.evse_id, "id_tag": tx.id_tag, "energy_wh": energy, "reason": tx.stop_reason,
            "provisional": tx.provisional}  # fmt: skip


def new_readings(values: Sequence[MeterValue], stored: Sequence[MeterValue]) -> list[MeterValue]:
    """``values`` without the sampled values ``stored`` has already (same instant, measurand, phase, location,
    unit and value: the context may differ), and without meter values left empty."""
    seen = {_reading(v.timestamp, s) for v in stored for s in v.sampled}
    fresh = []
    for v in values:
        kept = tuple(s for s in v.sampled if _reading(v.timestamp, s) not in seen)
        if kept:
            fresh.append(v if len(kept) == len(v.sampled) else msgspec.structs.replace(v, sampled=kept))
    return fresh


def _reading(at: datetime, s: Any) -> tuple[object, ...]:
    return at, s.measurand, s.phase, s.location, s.unit, s.value


def last_register(values: Sequence[MeterValue]) -> float | None:
    """The latest Energy.Active.Import.Register reading among ``values`` (Wh), if any."""
    readings = [(v.timestamp, register) for v in values if (register := v.register_wh()) is not None]
    return max(readings, key=lambda r: r[0])[1] if readings else None


def first_register(values: Sequence[MeterValue]) -> float | None:
    """The earliest Energy.Active.Import.Register reading among ``values`` (Wh), if any."""
    readings = [(v.timestamp, register) for v in values if (register := v.register_wh()) is not None]
    return min(readings, key=lambda r: r[0])[1] if readings else None


def _new_transaction(ev: TransactionEvent) -> NewTransaction:
    return NewTransaction(
        charger_id=ev.charger_id, evse_id=ev.evse_id or 0, connector_id=ev.connector_id or 1, id_tag=ev.id_tag,
        started_at=ev.at, meter_start_wh=first_register(ev.meter_values), dedupe_key=ev.remote_id,
        remote_id=ev.remote_id, reservation_id=ev.reservation_id,
    )  # fmt: skip


def _start_report(ev: TransactionEvent) -> StartReport:
    return StartReport(evse_id=ev.evse_id, id_tag=ev.id_tag, remote_start_id=ev.remote_start_id,
                       remote_id=ev.remote_id, remote_trigger=ev.trigger_reason == "RemoteStart")  # fmt: skip


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ignore(values: list[MeterValue]) -> None:
    pass
