"""What the firmware remembers about each call it sends (the session hands it back with the answer), so
that an answer, an error or a timeout reaches the part of the charger that asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chargewise.simulator.outbox import Queued


@dataclass(frozen=True, kw_only=True, slots=True)
class BootCall:
    """A BootNotification: its answer decides the phase."""

    name: ClassVar[str] = "boot"


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthorizeCall:
    """An Authorize for the id tag presented at ``connector_id``."""

    name: ClassVar[str] = "authorize"
    connector_id: int
    id_tag: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxCall:
    """The outbox head ``item`` in flight: delivered when answered, kept for a retry otherwise."""

    name: ClassVar[str] = "outbox"
    item: Queued


@dataclass(frozen=True, kw_only=True, slots=True)
class HeartbeatCall:
    name: ClassVar[str] = "heartbeat"


@dataclass(frozen=True, kw_only=True, slots=True)
class OtherCall:
    """Anything else (statuses, security events, reports): its answer changes nothing."""

    name: ClassVar[str] = "other"


CallContext = BootCall | AuthorizeCall | OutboxCall | HeartbeatCall | OtherCall
OTHER = OtherCall()
