"""The bus port: how nodes of one chargewise cluster talk (presence, routed commands, events, leases).

Two adapters implement it: ``adapters.memory_bus`` (one process: the embedded default, and several nodes in one
test process) and ``adapters.nats_bus`` (NATS core for messages, JetStream key-value buckets for state). The
services in ``services/cluster.py`` and ``services/leases.py`` use only this port.

Subjects are dot-separated tokens; a subscription may use ``*`` (one token) and ``>`` (the rest). Keys are
what :func:`key_for` makes of an id, so any charger id (OCPP allows characters NATS keys do not) is safe.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

Handler = Callable[[str, bytes], Awaitable[None]]  # (subject, data)
Responder = Callable[[bytes], Awaitable[bytes]]  # request data -> reply data
_SAFE_KEY = re.compile(r"[A-Za-z0-9_\-]{1,200}")


class BusError(Exception):
    """The bus is unreachable or refused the operation; the message says which and what to check."""


class NoResponder(BusError):
    """Nobody serves the subject a request went to (the node holding the charger is gone)."""


class RequestTimeout(BusError):
    """The responder did not answer within the timeout."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    key: str
    value: bytes
    revision: int


class KeyValue(Protocol):
    """A bucket of keys; with a ``ttl`` bucket, a key not written for ``ttl`` seconds disappears."""

    async def get(self, key: str) -> Entry | None: ...

    async def put(self, key: str, value: bytes) -> int:
        """Write; return the new revision."""
        ...

    async def create(self, key: str, value: bytes) -> int | None:
        """Write only if the key is absent (or expired, or deleted); the revision, or None if it exists."""
        ...

    async def update(self, key: str, value: bytes, revision: int) -> int | None:
        """Write only if the key's revision is still ``revision``; the new revision, or None if it moved on."""
        ...

    async def delete(self, key: str) -> None: ...

    async def items(self) -> list[Entry]:
        """Every live key (for a listing; O(bucket))."""
        ...


class Subscription(Protocol):
    async def stop(self) -> None: ...


class Bus(Protocol):
    """One node's connection to the cluster."""

    async def publish(self, subject: str, data: bytes) -> None: ...

    async def subscribe(self, subject: str, handler: Handler) -> Subscription: ...

    async def serve(self, subject: str, responder: Responder) -> Subscription:
        """Answer requests to ``subject`` (one responder per subject is expected)."""
        ...

    async def request(self, subject: str, data: bytes, wait_s: float) -> bytes:
        """Send a request and wait for its reply; raises :class:`NoResponder` or :class:`RequestTimeout`."""
        ...

    async def bucket(self, name: str, *, ttl: float | None = None) -> KeyValue:
        """The key-value bucket ``name``, created on first use (``ttl`` seconds per key, or forever)."""
        ...

    def healthy(self) -> bool:
        """Whether the bus connection is up now (a readiness check reads it)."""
        ...

    async def close(self) -> None: ...


def key_for(text: str) -> str:
    """A key (or subject token) for any id: itself where it is plain, else ``=`` + its base32 (no padding)."""
    if _SAFE_KEY.fullmatch(text):
        return text
    return "=" + base64.b32encode(text.encode()).decode().rstrip("=")


def id_from_key(key: str) -> str:
    """The id :func:`key_for` made ``key`` from."""
    if not key.startswith("="):
        return key
    body = key[1:]
    return base64.b32decode(body + "=" * (-len(body) % 8)).decode()


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether ``subject`` matches a subscription ``pattern`` (``*`` one token, ``>`` one or more at the end)."""
    want, got = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or (token != "*" and token != got[i]):
            return False
    return len(want) == len(got)
