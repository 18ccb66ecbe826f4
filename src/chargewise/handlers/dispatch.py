"""What to answer each call a charger sends, and which commands a charger may be sent: every protocol decision
between the transport adapter (which only pumps frames) and the per-action handlers.

Rules (registration as OCPP 1.6 section 4.2 and 2.0.1 use cases B01-B03 define it):

1. A charger's registration is its directory entry's (the directory is kept in step with the store): Accepted,
   Pending, Rejected, or none at all (an id the unknown-charger policy admitted, that has not booted yet).
2. Charger to CSMS: an Accepted charger may send every action of the route table. Any other may send only
   BootNotification, and a Pending one also NotifyReport (2.0.1: the report that a GetBaseReport or GetReport,
   which the CSMS may send while Pending, asks for). Anything else is answered CallError SecurityError (both
   versions define it) and reaches no handler: nothing is stored, not even last_seen.
3. A row is created only by a BootNotification: the first one of an id the policy admitted, as the policy says
   (Accepted or Pending). A Pending one only within the newcomer bounds (``services.newcomers``); over them no
   row is created and the BootNotification answers Rejected.
4. CSMS to charger: an Accepted charger may be sent any command, at once (also on a connection that has not
   booted: a charger that reconnects without rebooting is commandable). A Pending one only
   :data:`PENDING_COMMANDS`: reading and changing its configuration, a Reset to apply a change that needs one,
   and TriggerMessage for a BootNotification (no other triggered message would be accepted, rule 2). A Rejected
   or unbooted one nothing (1.6: "the Central System SHOULD NOT initiate any").
5. A handler's RemoteProtocolError is the charger's fault: its CallError. A store too busy to take the write in
   time (``StoreBusy``, a reconnect storm) is GenericError "server busy; retry later". Any other exception is ours:
   InternalError. Either way one log line, rate-limited per connection (:class:`LogBudget`); our tracebacks
   only at debug level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from chargewise.domain.model import OcppVersion, Registration
from chargewise.domain.ports import StoreBusy
from chargewise.handlers.context import Context, Handler, Payload
from chargewise.ocpp.errors import ErrorKind, LocalProtocolError, RemoteProtocolError
from chargewise.ocpp.session import CallReceived, Event, Session
from chargewise.services.central import CentralSystem
from chargewise.services.directory import Directory, Entry
from chargewise.services.newcomers import Newcomers

log = logging.getLogger(__name__)
BOOT = "BootNotification"

#: rule 2: what a charger that is not Accepted may send
UNACCEPTED_MESSAGES: dict[Registration | None, frozenset[str]] = {
    Registration.PENDING: frozenset({BOOT, "NotifyReport"}),
    Registration.REJECTED: frozenset({BOOT}),
    None: frozenset({BOOT}),
}
#: rule 4: what a Pending charger may be sent (TriggerMessage only for a BootNotification)
PENDING_COMMANDS: dict[OcppVersion, frozenset[str]] = {
    OcppVersion.V16: frozenset({"GetConfiguration", "ChangeConfiguration", "Reset", "TriggerMessage"}),
    OcppVersion.V201: frozenset(
        {"GetVariables", "SetVariables", "GetBaseReport", "GetReport", "SetNetworkProfile", "Reset", "TriggerMessage"}
    ),
}


class LogBudget:
    """Log lines one connection's messages may write: :data:`BURST` at once, refilled at BURST a minute. A flood
    of bad frames from one charger costs the log a few lines a minute, and the next line says how many were
    held back."""

    BURST = 10
    __slots__ = ("_at", "_held", "_tokens")

    def __init__(self) -> None:
        self._tokens = float(self.BURST)
        self._at: datetime | None = None
        self._held = 0

    def spend(self, now: datetime) -> int | None:
        """None: hold this line back. Else write it, noting the returned number of lines held back before it."""
        if self._at is not None:
            elapsed = max((now - self._at) / timedelta(seconds=60), 0.0)
            self._tokens = min(float(self.BURST), self._tokens + elapsed * self.BURST)
        self._at = now
        if self._tokens < 1:
            self._held += 1
            return None
        self._tokens -= 1
        held, self._held = self._held, 0
        return held


@dataclass(kw_only=True, slots=True)
class Peer:
    """What the dispatcher keeps about one connection; the transport adapter makes one per link."""

    charger_id: str
    version: OcppVersion
    register_as: Registration | None = None  # an id new at the handshake: what its first boot registers it as
    quirk_counts: dict[str, int] = field(default_factory=dict)
    log_budget: LogBudget = field(default_factory=LogBudget)


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    """A CallResult ``payload``, or a CallError of ``error`` with ``description``."""

    payload: Payload | None = None
    error: ErrorKind = ErrorKind.INTERNAL
    description: str = ""


def message_refusal(action: str, registration: Registration | None) -> str | None:
    """Rule 2: why a charger in ``registration`` may not send ``action`` (None: it may)."""
    if registration is Registration.ACCEPTED or action in UNACCEPTED_MESSAGES[registration]:
        return None
    state = "not registered" if registration is None else registration.value
    return f"{state}: send only BootNotification until it answers Accepted"


def command_refusal(
    charger_id: str, version: OcppVersion, registration: Registration | None, action: str, payload: Payload
) -> str | None:
    """Rule 4: why ``action`` may not be sent to the charger now (None: it may), in one line for a person."""
    if registration is Registration.ACCEPTED:
        return None
    if registration is None:
        return f"charger {charger_id!r} has not sent a BootNotification yet; retry once it has booted"
    if registration is Registration.REJECTED:
        return f"charger {charger_id!r} is Rejected and may not be sent commands; approve it first"
    allowed = PENDING_COMMANDS[version]
    if action in allowed and (action != "TriggerMessage" or payload.get("requestedMessage") == BOOT):
        return None
    return (
        f"charger {charger_id!r} is Pending: until it is approved it may be sent only "
        f"{', '.join(sorted(allowed - {'TriggerMessage'}))} and TriggerMessage BootNotification"
    )


class Dispatcher:
    """Runs the route tables under the rules above. Build one per process in ``bootstrap``."""

    def __init__(
        self,
        *,
        central: CentralSystem,
        directory: Directory,
        routes: dict[OcppVersion, dict[str, Handler]],
        newcomers: Newcomers,
    ) -> None:
        self.central = central
        self.directory = directory
        self.routes = routes
        self.newcomers = newcomers

    def actions(self, version: OcppVersion) -> frozenset[str]:
        """The actions a charger of ``version`` may send at all (the session refuses others as NotSupported)."""
        return frozenset(self.routes[version])

    def registration(self, charger_id: str) -> Registration | None:
        entry = self.directory.get(charger_id)
        return None if entry is None else entry.registration

    def newcomer_refusal(self, now: datetime) -> str | None:
        """For the handshake of an id the policy would add as Pending: why not now (None: admit it)."""
        return self.newcomers.refusal(self.directory.pending_count(), now)

    def command_refusal(self, peer: Peer, action: str, payload: Payload) -> str | None:
        """Why ``action`` may not be sent to ``peer`` now (rule 4); raise ``NotAccepted`` with it."""
        return command_refusal(peer.charger_id, peer.version, self.registration(peer.charger_id), action, payload)

    async def dispatch(self, peer: Peer, call: CallReceived, now: datetime) -> Answer:
        """Decide and compute the answer to ``call`` (received at ``now``); send it with :meth:`reply`."""
        for quirk in call.quirks:
            peer.quirk_counts[quirk] = peer.quirk_counts.get(quirk, 0) + 1
        registration = self.registration(peer.charger_id)
        refusal = message_refusal(call.action, registration)
        if refusal is not None:
            self.note(peer, f"{call.action} refused, {refusal}", now)
            return Answer(error=ErrorKind.SECURITY, description=refusal)
        try:
            if registration is None and peer.register_as is not None and call.action == BOOT:
                await self._register(peer, peer.register_as, now)
            elif registration is not None:
                self.central.note_seen(peer.charger_id, now)
            ctx = Context(charger_id=peer.charger_id, version=peer.version, central=self.central, now=now)
            payload = await self.routes[peer.version][call.action](ctx, call.payload)
        except RemoteProtocolError as exc:
            self.note(peer, f"{call.action} refused: {exc.description}", now)
            return Answer(error=exc.kind, description=exc.description)
        except StoreBusy as exc:  # a storm: shed with a clear error, nothing was written; not a bug
            self.note(peer, f"{call.action} shed: {exc}", now, level=logging.WARNING)
            return Answer(error=ErrorKind.GENERIC, description="server busy; retry later")
        except Exception as exc:  # our fault: nothing was acknowledged, the charger will retry
            self._failed(peer, f"{call.action} failed", exc, now)
            return Answer(error=ErrorKind.INTERNAL, description="internal error; retry later")
        if call.action == BOOT:
            self._booted(peer.charger_id, payload)
        return Answer(payload=payload)

    def reply(self, peer: Peer, session: Session, call: CallReceived, answer: Answer, now: datetime) -> list[Event]:
        """Hand ``answer`` to the session; return the calls that queued up behind this one."""
        if answer.payload is None:
            return session.reply_error(call.unique_id, answer.error, answer.description)
        try:
            return session.reply(call.unique_id, answer.payload)
        except LocalProtocolError as exc:  # our handler built an invalid answer: a bug, reported as such
            self._failed(peer, f"invalid {call.action} answer", exc, now)
            return session.reply_error(call.unique_id, ErrorKind.INTERNAL, "internal error")

    def note(self, peer: Peer, text: str, now: datetime, *, level: int = logging.INFO) -> None:
        """Log one line about ``peer``'s traffic (a refused message, say), within its :class:`LogBudget`."""
        held = peer.log_budget.spend(now)
        if held is not None:
            log.log(level, "%s: %s%s", peer.charger_id, text, f" ({held} similar lines held back)" if held else "")

    def _failed(self, peer: Peer, what: str, exc: BaseException, now: datetime) -> None:
        self.note(peer, f"{what}: {type(exc).__name__}: {exc}", now, level=logging.ERROR)
        log.debug("%s: %s", peer.charger_id, what, exc_info=exc)

    async def _register(self, peer: Peer, registration: Registration, now: datetime) -> None:
        """Rule 3: create the row of an id the policy admitted, at its first BootNotification."""
        if registration is Registration.PENDING:
            why = self.newcomers.take(self.directory.pending_count(), now)
            if why is not None:  # the boot handler finds no row and answers Rejected
                self.note(peer, f"not added: {why}", now, level=logging.WARNING)
                return
        entry = Entry(charger_id=peer.charger_id, registration=registration)
        self.directory.put(entry)  # at once, so that boots racing this one count it
        try:
            await self.central.connected(peer.charger_id, register_as=registration)
        except BaseException:
            self.directory.remove(peer.charger_id)
            raise
        if self.directory.get(peer.charger_id) is None:  # a reload from the store ran before the row was written
            self.directory.put(entry)
        peer.register_as = None

    def _booted(self, charger_id: str, payload: dict[str, Any]) -> None:
        """Keep the directory in step with the registration the BootNotification answered (read from the store)."""
        entry = self.directory.get(charger_id)
        status = str(payload.get("status"))
        if entry is not None and status != entry.registration.value:
            self.directory.put(replace(entry, registration=Registration(status)))
