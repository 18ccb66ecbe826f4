"""The bus over NATS: core NATS for events and request/reply, JetStream key-value buckets for presence and
leases (a bucket's ``ttl`` is its max age: a key not rewritten within it is gone). A thin pump: what is sent
and when is decided in ``services/cluster.py`` and ``services/leases.py``."""

from __future__ import annotations

import logging
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError, KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue as NatsKv

from chargewise.domain.bus import BusError, Entry, Handler, NoResponder, RequestTimeout, Responder

log = logging.getLogger(__name__)


class NatsBucket:
    def __init__(self, kv: NatsKv) -> None:
        self._kv = kv

    async def get(self, key: str) -> Entry | None:
        try:
            found = await self._kv.get(key)
        except (KeyNotFoundError, KeyDeletedError):
            return None
        return Entry(key=key, value=found.value or b"", revision=found.revision or 0)

    async def put(self, key: str, value: bytes) -> int:
        return await self._kv.put(key, value)

    async def create(self, key: str, value: bytes) -> int | None:
        try:
            return await self._kv.create(key, value)
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            # taken meanwhile, or nats-py's create lost a race with the key's expiry (it then looks the key up
            # and finds nothing): either way not created now; the caller tries again at its next turn
            return None

    async def update(self, key: str, value: bytes, revision: int) -> int | None:
        try:
            return await self._kv.update(key, value, last=revision)
        except KeyWrongLastSequenceError:
            return None

    async def delete(self, key: str) -> None:
        await self._kv.delete(key)

    async def items(self) -> list[Entry]:
        try:
            keys = await self._kv.keys()
        except Exception as exc:  # nats-py raises NoKeysError (a plain Exception subclass) for an empty bucket
            if type(exc).__name__ == "NoKeysError":
                return []
            raise
        found = [await self.get(k) for k in dict.fromkeys(keys)]  # nats-py may list a key twice
        return [e for e in found if e is not None]


class _NatsSub:
    def __init__(self, sub: Any) -> None:
        self._sub = sub

    async def stop(self) -> None:
        await self._sub.unsubscribe()


class NatsBus:
    """Connect with :func:`connect`."""

    def __init__(self, client: Client) -> None:
        self._nc = client
        self._js = client.jetstream()
        self._buckets: dict[str, NatsBucket] = {}

    async def publish(self, subject: str, data: bytes) -> None:
        await self._nc.publish(subject, data)

    async def subscribe(self, subject: str, handler: Handler) -> _NatsSub:
        async def deliver(msg: Msg) -> None:
            await handler(msg.subject, msg.data)

        return _NatsSub(await self._nc.subscribe(subject, cb=deliver))

    async def serve(self, subject: str, responder: Responder) -> _NatsSub:
        async def answer(msg: Msg) -> None:
            await msg.respond(await responder(msg.data))

        return _NatsSub(await self._nc.subscribe(subject, cb=answer))

    async def request(self, subject: str, data: bytes, wait_s: float) -> bytes:
        try:
            reply = await self._nc.request(subject, data, timeout=wait_s)
        except NoRespondersError:
            raise NoResponder(f"nobody serves {subject}") from None
        except NatsTimeout:
            raise RequestTimeout(f"no reply on {subject} within {wait_s:g} s") from None
        return reply.data

    async def bucket(self, name: str, *, ttl: float | None = None) -> NatsBucket:
        found = self._buckets.get(name)
        if found is not None:
            return found
        try:
            kv = await self._js.key_value(name)
        except BucketNotFoundError:
            config = KeyValueConfig(bucket=name, history=1, ttl=ttl)  # file storage: survives a NATS restart
            kv = await self._js.create_key_value(config=config)
        found = self._buckets[name] = NatsBucket(kv)
        return found

    def healthy(self) -> bool:
        return bool(self._nc.is_connected)

    async def close(self) -> None:
        if not self._nc.is_closed:
            await self._nc.drain()


async def connect(url: str, *, name: str) -> NatsBus:
    """Connect to the NATS server at ``url`` (``nats://HOST:PORT``) as node ``name``; reconnects by itself after
    a broken connection. Raises :class:`BusError` in one line when the server is not there."""

    async def error(exc: Exception) -> None:
        log.warning("bus %s: %s", url, exc)

    try:
        client = await nats.connect(url, name=name, connect_timeout=3, allow_reconnect=True,
                                    max_reconnect_attempts=-1, reconnect_time_wait=1, error_cb=error)  # fmt: skip
    except Exception as exc:
        raise BusError(f"cannot reach the NATS server at {url} ({exc or type(exc).__name__})") from None
    return NatsBus(client)
