"""Outgoing webhooks: an admin registers a URL with the event kinds (and, if wanted, the chargers) it wants;
each event of the hub (``events``) that passes is POSTed there as JSON, signed and retried (``deliveries``).

Rules:

1. One pump per webhook, in order: an event is sent only after the one before was accepted or given up.
2. Each webhook has a bounded queue (its hub subscription, ``queue`` events): while the receiver is down and
   the queue is full, the oldest events are dropped and counted (``dropped``), never the server's memory.
3. The webhooks are kept in the store and pumped again after a restart; the delivery counts are not kept.
4. The secret is made here, returned once at creation and never listed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import msgspec

from chargewise.domain.api_clients import ApiClientStore, Webhook
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.deliveries import Backoff, DeliveryStatus, Post, deliver
from chargewise.services.events import EventHub, Kind, Subscription

log = logging.getLogger(__name__)
MAX_WEBHOOKS = 100
MAX_URL = 2000
MAX_CHARGERS = 1000


@dataclass(eq=False)
class Pump:
    webhook: Webhook
    subscription: Subscription
    status: DeliveryStatus
    task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return self.subscription.pending()

    @property
    def dropped(self) -> int:
        return self.subscription.dropped


def check_url(url: str) -> str:
    parts = urlsplit(url) if len(url) <= MAX_URL else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"url {url[:60]!r} is not an http(s) URL", fix="give e.g. https://example.org/hook")
    return url


def check_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    valid = {k.value for k in Kind}
    for kind in kinds:
        if kind not in valid:
            raise InvalidRequest(f"event kind {kind[:40]!r} does not exist", fix=f"use {', '.join(sorted(valid))}")
    return tuple(sorted(set(kinds)))


class Webhooks:
    """Webhooks on ``store`` fed from ``hub``; :meth:`start` once (the server), :meth:`stop` at the end."""

    def __init__(
        self,
        *,
        store: ApiClientStore,
        hub: EventHub,
        post: Post,
        now: Callable[[], datetime],
        backoff: Backoff | None = None,
        queue: int = 1000,
    ) -> None:
        self._store, self._hub, self._post, self._now = store, hub, post, now
        self._backoff = backoff or Backoff()
        self._queue = queue
        self._pumps: dict[str, Pump] = {}

    async def start(self) -> None:
        for webhook in await self._store.webhooks():
            self._pump(webhook)

    async def stop(self) -> None:
        for pump in list(self._pumps.values()):
            await self._end(pump)
        self._pumps.clear()

    async def create(self, url: str, kinds: Sequence[str], chargers: Sequence[str] = ()) -> Pump:
        """A new webhook (its secret in ``pump.webhook.secret``: show it now), pumping from this moment."""
        if len(self._pumps) >= MAX_WEBHOOKS:
            raise InvalidRequest(f"{MAX_WEBHOOKS} webhooks exist already", fix="delete one you no longer use")
        if len(chargers) > MAX_CHARGERS or any(not 1 <= len(c) <= 48 for c in chargers):
            raise InvalidRequest("chargers must be at most 1000 charger ids", fix="list the chargers' ids, or none")
        webhook = Webhook(id=secrets.token_hex(6), url=check_url(url), kinds=check_kinds(kinds),
                          chargers=tuple(sorted(set(chargers))), secret=secrets.token_urlsafe(32),
                          created_at=self._now())  # fmt: skip
        await self._store.add_webhook(webhook)
        return self._pump(webhook)

    def pumps(self) -> list[Pump]:
        return [self._pumps[k] for k in sorted(self._pumps)]

    def get(self, webhook_id: str) -> Pump:
        pump = self._pumps.get(webhook_id)
        if pump is None:
            raise NotFound(f"no webhook {webhook_id[:40]!r}", fix="list the webhooks to see their ids")
        return pump

    async def delete(self, webhook_id: str) -> None:
        pump = self.get(webhook_id)
        await self._store.remove_webhook(webhook_id)
        await self._end(self._pumps.pop(webhook_id, pump))

    # ------------------------------------------------------------------ pumping
    def _pump(self, webhook: Webhook) -> Pump:
        subscription = self._hub.subscribe(kinds=[Kind(k) for k in webhook.kinds], chargers=webhook.chargers,
                                           maxsize=self._queue)  # fmt: skip
        pump = Pump(webhook=webhook, subscription=subscription, status=DeliveryStatus())
        pump.task = asyncio.get_running_loop().create_task(self._run(pump), name=f"webhook {webhook.id}")
        self._pumps[webhook.id] = pump
        return pump

    async def _run(self, pump: Pump) -> None:
        hook = pump.webhook
        async for event in pump.subscription:  # rule 1: one at a time, in order
            body = msgspec.json.encode(event.as_json())
            headers = {"X-Chargewise-Event": event.kind.value, "X-Chargewise-Delivery": f"{hook.id}-{event.seq}"}
            try:
                await deliver(self._post, hook.url, body, secret=hook.secret, headers=headers,
                              backoff=self._backoff, status=pump.status, now=self._now)  # fmt: skip
            except Exception:  # a bug of ours: logged, the pump goes on with the next event
                log.exception("webhook %s: delivering event %d failed", hook.id, event.seq)

    async def _end(self, pump: Pump) -> None:
        pump.subscription.close()
        if pump.task is not None:
            pump.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump.task
