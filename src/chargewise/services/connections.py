"""Live connections and remote commands: how the rest of the system talks to a connected charger."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chargewise.domain.model import OcppVersion


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkSettings:
    """How the server keeps one charger's connection: build one in ``bootstrap`` (and per charger from the
    config file's ``[chargers."ID"]`` tables) and hand it to the transport adapter."""

    ping_interval: float = 60.0  # WebSocket ping every N s; 0 disables
    ping_timeout: float = 30.0  # no pong within N s after a ping: the link is dead
    call_timeout: float = 30.0  # a command unanswered for N s fails with CallTimeout
    max_message_size: int = 64 * 1024  # larger messages are refused with close code 1009


@dataclass(frozen=True, kw_only=True, slots=True)
class CallOutcome:
    """The charger's real answer: a CallResult payload, or a CallError code with its description."""

    action: str
    payload: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str | None = None
    error_details: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


class ChargerOffline(Exception):
    """The charger has no live connection, or lost it while the call was pending (the command may or may not
    have been carried out: ask the charger once it reconnects)."""


class CallTimeout(Exception):
    """The charger did not answer within its call timeout."""


class NotAccepted(Exception):
    """The charger is connected but not Accepted (Pending, Rejected, or not booted yet), and the command is not
    one its registration state allows; approve it first (``chargers approve``), or send an allowed command."""


class Link(Protocol):
    """One live charger connection, as the services see it."""

    charger_id: str
    version: OcppVersion
    connected_at: datetime
    last_seen: datetime
    quirk_counts: dict[str, int]

    async def call(self, action: str, payload: dict[str, Any]) -> CallOutcome:
        """Send a command; raises ChargerOffline, CallTimeout, NotAccepted or LocalProtocolError (bad payload)."""
        ...

    def close(self, reason: str) -> None: ...


#: told of every command a charger answered: ``(charger_id, action, payload, answer payload)``
CallObserver = Callable[[str, str, dict[str, Any], dict[str, Any]], Awaitable[None]]
#: told how every command ended: ``(charger_id, action, outcome, seconds)``, outcome ``ok``, ``call_error``,
#: ``timeout`` or ``offline`` (seconds None: it was never sent); server-pacing evidence for the doctor
OutcomeObserver = Callable[[str, str, str, float | None], None]
log = logging.getLogger(__name__)


class Registry:
    """Which connection currently speaks for each charger id (the newest authenticated one). ``observer``,
    if given, learns from every CallResult (``Transactions.observe_call``: remote starts, charger settings);
    its failure is logged and never costs the caller the answer."""

    def __init__(self, *, observer: CallObserver | None = None, outcomes: OutcomeObserver | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._links: dict[str, Link] = {}
        #: a charger with no link here is called through this (``Cluster.call``: the node holding its link)
        self.remote: Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]] | None = None
        #: told ``(link, up)`` when a link becomes current here or stops being so (``Cluster.link_changed``)
        self.on_link: Callable[[Link, bool], None] | None = None
        self._observer = observer
        self._outcomes = outcomes
        self._monotonic = monotonic

    def register(self, link: Link) -> Link | None:
        """Make ``link`` current; return the connection it replaces (the caller closes it)."""
        old = self._links.get(link.charger_id)
        self._links[link.charger_id] = link
        if self.on_link is not None and old is not link:
            self.on_link(link, True)
        return old if old is not link else None

    def unregister(self, link: Link) -> bool:
        """Forget ``link`` if it is still current; False if a newer connection replaced it already."""
        if self._links.get(link.charger_id) is link:
            del self._links[link.charger_id]
            if self.on_link is not None:
                self.on_link(link, False)
            return True
        return False

    def get(self, charger_id: str) -> Link | None:
        return self._links.get(charger_id)

    def __contains__(self, charger_id: object) -> bool:
        """Whether the charger has a live connection here."""
        return charger_id in self._links

    def __len__(self) -> int:
        return len(self._links)

    def links(self) -> list[Link]:
        return list(self._links.values())

    async def call(self, charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome:
        """Send ``action`` to the connected charger and return its answer (see :meth:`Link.call`)."""
        link = self._links.get(charger_id)
        if link is None and self.remote is not None:
            return await self.remote(charger_id, action, payload)  # the node holding it records the outcome
        if link is None:
            self._ended(charger_id, action, "offline", None)
            raise ChargerOffline(f"charger {charger_id!r} is not connected")
        started = self._monotonic()
        try:
            outcome = await link.call(action, payload)
        except (CallTimeout, ChargerOffline) as exc:
            self._ended(charger_id, action, "timeout" if isinstance(exc, CallTimeout) else "offline", started)
            raise
        self._ended(charger_id, action, "ok" if outcome.ok else "call_error", started)
        if self._observer is not None and outcome.payload is not None:
            try:
                await self._observer(charger_id, action, payload, outcome.payload)
            except Exception:
                log.exception("%s: the answer to %s was not taken note of", charger_id, action)
        return outcome

    def _ended(self, charger_id: str, action: str, outcome: str, started: float | None) -> None:
        if self._outcomes is not None:
            self._outcomes(charger_id, action, outcome, None if started is None else self._monotonic() - started)
