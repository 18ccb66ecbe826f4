"""A fake link joining a CSMS-role and a CHARGER-role :class:`Session` back to back (after h11's ConnectionPair).

Nothing moves until a test says so. :meth:`Link.transmit` hands what one side has queued to the other side's
``receive`` at :attr:`Link.now`, records every frame on :attr:`Link.wire` and collects the receiver's events,
so a test can stop between any two frames and look at both ends.
"""

from __future__ import annotations

import json
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.session import Event, Role, Session

WireFrame = list[Any]


def other(role: Role) -> Role:
    return Role.CHARGER if role is Role.CSMS else Role.CSMS


class Link:
    """Two sessions of one OCPP ``version`` and the wire between them. Move time by setting :attr:`now`."""

    def __init__(
        self,
        version: OcppVersion,
        *,
        now: float = 1000.0,
        call_timeout: float = 30.0,
        csms_quirks: frozenset[str] = frozenset(),
        charger_quirks: frozenset[str] = frozenset(),
    ) -> None:
        self.version = version
        self.now = now
        self.csms = Session(version=version, role=Role.CSMS, quirks=csms_quirks, call_timeout=call_timeout)
        self.charger = Session(version=version, role=Role.CHARGER, quirks=charger_quirks, call_timeout=call_timeout)
        self.sessions = {Role.CSMS: self.csms, Role.CHARGER: self.charger}
        self.wire: list[tuple[Role, WireFrame]] = []
        self.events: dict[Role, list[Event]] = {Role.CSMS: [], Role.CHARGER: []}
        self._held: dict[Role, list[bytes]] = {Role.CSMS: [], Role.CHARGER: []}

    def queued(self, sender: Role) -> list[WireFrame]:
        """What ``sender`` wants to send, decoded, without sending it (a later :meth:`transmit` still does)."""
        self._held[sender] += self.sessions[sender].outgoing()
        return [json.loads(data) for data in self._held[sender]]

    def transmit(self, sender: Role) -> list[Event]:
        """Deliver every frame ``sender`` has queued, in order; return the receiver's events (also collected)."""
        self.queued(sender)
        held, self._held[sender] = self._held[sender], []
        receiver = self.sessions[other(sender)]
        events: list[Event] = []
        for data in held:
            self.wire.append((sender, json.loads(data)))
            events += receiver.receive(data, self.now)
        self.events[other(sender)] += events
        return events

    def pump(self) -> None:
        """Transmit both ways until neither side has anything left to send."""
        while True:
            sent = len(self.wire)
            self.transmit(Role.CSMS)
            self.transmit(Role.CHARGER)
            if len(self.wire) == sent:
                return

    def inject(self, receiver: Role, data: str | bytes) -> list[Event]:
        """``receiver`` gets raw ``data`` as if its peer had sent it (for what a well-behaved Session never sends)."""
        events = self.sessions[receiver].receive(data, self.now)
        self.events[receiver] += events
        return events

    def take(self, role: Role) -> list[Event]:
        """The events collected for ``role`` since the last take."""
        events, self.events[role] = self.events[role], []
        return events
