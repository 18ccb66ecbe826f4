"""This node in a cluster of chargewise nodes: presence, routed commands, fleet-wide events.

Rules:

1. **Presence.** A node writes ``presence[charger] = {node, at}`` when a charger's link comes up here and
   removes it when the link goes (if it is still its own). A node proves it is alive by rewriting
   ``nodes[node]`` every ``NODE_TTL / 3`` s in a bucket whose keys expire after ``NODE_TTL``: a charger's entry
   counts only while its node's key lives, so a dead node's entries expire with it, without one write per
   charger per refresh (1,000,000 chargers would otherwise cost a write each, every few seconds).
Subjects and buckets carry the cluster's name (``--cluster``, default ``main``): ``cw.<cluster>.…``.

2. **Newest link wins across nodes.** A new link is announced on ``cw.<cluster>.link.claim``; a node holding an older
   link for that charger closes it (the charger reconnected elsewhere and that link is its current one).
3. **Routing.** A command for a charger without a link here goes to the node its presence names, as a request
   on ``cw.<cluster>.node.<node>.call``; that node sends it and replies with the charger's real answer. No live holder:
   :class:`ChargerOffline` (REST answers 409).
4. **Events.** Every event this node publishes goes out on ``cw.<cluster>.events.<node>.<kind>``; events of other nodes
   come back into this node's hub, marked with their node, so the event stream, webhooks, MQTT and metrics
   of any node see the whole fleet. Only events with no node are forwarded (no loops), and only while another
   node is alive (the list of live nodes is read every ``NODE_TTL / 3`` s: a node that just joined hears the
   others' events within that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from chargewise.domain.bus import (
    Bus,
    BusError,
    KeyValue,
    NoResponder,
    RequestTimeout,
    Subscription,
    id_from_key,
    key_for,
)
from chargewise.domain.model import OcppVersion
from chargewise.ocpp.errors import LocalProtocolError
from chargewise.services.connections import CallOutcome, CallTimeout, ChargerOffline, Link, NotAccepted, Registry
from chargewise.services.events import Event, EventHub, Kind

log = logging.getLogger(__name__)
DEFAULT_CLUSTER = "main"
NODE_TTL = 6.0  # s: a node not heard from for this long is gone, and so are its links
CALL_GRACE = 2.0  # s added to the charger's call timeout for the hop between nodes
_json = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class Names:
    """Where one cluster lives on the bus: its buckets and subjects (``--cluster NAME``: several clusters, or
    several test runs, share one NATS server without seeing each other)."""

    cluster: str = DEFAULT_CLUSTER

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", self.cluster):
            raise ValueError(f"cluster name {self.cluster!r}: use 1 to 32 letters, digits, '-' or '_'")

    @property
    def nodes(self) -> str:
        return f"cw_{self.cluster}_nodes"

    @property
    def presence(self) -> str:
        return f"cw_{self.cluster}_presence"

    @property
    def leases(self) -> str:
        return f"cw_{self.cluster}_leases"

    def subject(self, *tokens: str) -> str:
        return ".".join(("cw", self.cluster, *tokens))


class Cluster:
    """Build one per node in ``bootstrap``; :meth:`start`, then :meth:`run` as a background task."""

    def __init__(self, *, bus: Bus, node: str, registry: Registry, events: EventHub,
                 now: Callable[[], datetime], call_timeout: float = 30.0, names: Names = Names()) -> None:  # fmt: skip
        self.bus, self.node, self.registry, self.events, self.names = bus, node, registry, events, names
        self.now = now
        self.call_timeout = call_timeout
        self._nodes: KeyValue | None = None
        self._presence: KeyValue | None = None
        self._subs: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.forwarded = 0  # events sent to other nodes
        self.received = 0  # events from other nodes
        #: chargers linked to other live nodes: id -> (node, version), from presence and link claims
        self.elsewhere: dict[str, tuple[str, OcppVersion]] = {}
        self._live_nodes: set[str] = set()
        #: told of every event from another node, after it entered the hub (bootstrap: the remote telemetry)
        self.on_remote: Callable[[Event], None] = lambda event: None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Join: announce this node, answer its calls, hear link claims and other nodes' events."""
        self._nodes = await self.bus.bucket(self.names.nodes, ttl=NODE_TTL)
        self._presence = await self.bus.bucket(self.names.presence)
        await self._beat()
        self._live_nodes = set(await self.nodes())
        for entry in await self._presence.items():  # who holds what, as of joining; claims keep it current
            found = _decode.decode(entry.value)
            if found.get("node") != self.node and found.get("node") in self._live_nodes:
                self.elsewhere[id_from_key(entry.key)] = (str(found["node"]), OcppVersion(found["version"]))
        self._subs = [
            await self.bus.serve(self.names.subject("node", key_for(self.node), "call"), self._answer_call),
            await self.bus.subscribe(self.names.subject("link", "claim"), self._claimed),
            await self.bus.subscribe(self.names.subject("events", ">"), self._remote_event),
        ]
        self.registry.remote = self.call
        self.registry.on_link = self.link_changed

    async def run(self) -> None:
        """Keep this node alive in the cluster and forward its events, until cancelled."""
        forward = asyncio.ensure_future(self._forward_events())
        try:
            while True:
                await asyncio.sleep(NODE_TTL / 3)
                try:
                    await self._beat()
                    self._live_nodes = set(await self.nodes())
                    self.elsewhere = {c: nv for c, nv in self.elsewhere.items() if nv[0] in self._live_nodes}
                except BusError as exc:
                    log.warning("cluster heartbeat failed: %s", exc)
                except Exception:
                    log.exception("cluster heartbeat failed")
        finally:
            forward.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await forward

    async def stop(self) -> None:
        """Leave: stop answering, and let the other nodes know at once that this node's links are gone."""
        self.registry.remote = None
        self.registry.on_link = None
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.stop()
        if self._nodes is not None:
            with contextlib.suppress(Exception):
                await self._nodes.delete(key_for(self.node))
        for task in list(self._tasks):
            task.cancel()

    async def _beat(self) -> None:
        assert self._nodes is not None
        await self._nodes.put(key_for(self.node), _json.encode({"node": self.node, "at": self.now().isoformat()}))

    # ------------------------------------------------------------------ presence
    def link_changed(self, link: Link, up: bool) -> None:
        """The registry's hook: a link here came up (``up``) or went; recorded and announced in the background."""
        if up:
            self.elsewhere.pop(link.charger_id, None)
        self._spawn(self._record_link(link.charger_id, link.connected_at if up else None, link.version))

    async def _record_link(self, charger_id: str, connected_at: datetime | None, version: OcppVersion) -> None:
        assert self._presence is not None
        key = key_for(charger_id)
        try:
            if connected_at is not None:
                entry = {"node": self.node, "at": connected_at.isoformat(), "version": version.value}
                await self._presence.put(key, _json.encode(entry))
                await self.bus.publish(
                    self.names.subject("link", "claim"), _json.encode({"charger": charger_id, **entry})
                )
                return
            found = await self._presence.get(key)
            if found is not None and _decode.decode(found.value).get("node") == self.node:
                await self._presence.delete(key)
        except BusError as exc:
            log.warning("%s: presence not recorded: %s", charger_id, exc)

    async def where(self, charger_id: str) -> str | None:
        """The node holding the charger's link, if that node is alive; None when no live node holds it."""
        assert self._presence is not None and self._nodes is not None
        if charger_id in self.registry:
            return self.node
        node = await holder(charger_id, presence=self._presence, nodes=self._nodes)
        return None if node == self.node else node

    async def nodes(self) -> list[str]:
        """The live nodes."""
        assert self._nodes is not None
        return sorted({str(_decode.decode(e.value)["node"]) for e in await self._nodes.items()})

    def version_elsewhere(self, charger_id: str) -> OcppVersion | None:
        """The version of the charger's link on another live node; None if it has none."""
        found = self.elsewhere.get(charger_id)
        return found[1] if found is not None else None

    async def _claimed(self, subject: str, data: bytes) -> None:
        claim = _decode.decode(data)
        if claim.get("node") == self.node:
            return
        charger = str(claim.get("charger"))
        self.elsewhere[charger] = (str(claim.get("node")), OcppVersion(claim.get("version")))
        link = self.registry.get(charger)
        if link is not None and link.connected_at.isoformat() <= str(claim.get("at")):
            log.info("%s reconnected to node %s: closing its older link here", link.charger_id, claim.get("node"))
            link.close(f"replaced by a newer connection on node {claim.get('node')}")

    # ------------------------------------------------------------------ routed calls
    async def call(self, charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome:
        """Send ``action`` to the charger through the node that holds its link (the registry calls this when the
        link is not here). Raises what :meth:`Link.call` raises."""
        assert self._presence is not None and self._nodes is not None
        return await call_through(
            self.bus, charger_id, action, payload, call_timeout=self.call_timeout, presence=self._presence,
            nodes=self._nodes, me=self.node, names=self.names,
        )  # fmt: skip

    async def _answer_call(self, data: bytes) -> bytes:
        asked = _decode.decode(data)
        charger_id, action = str(asked["charger"]), str(asked["action"])
        if charger_id not in self.registry:
            return _json.encode({"status": "offline", "message": f"charger {charger_id!r} is not connected"})
        try:
            outcome = await self.registry.call(charger_id, action, dict(asked.get("payload") or {}))
        except ChargerOffline as exc:
            return _json.encode({"status": "offline", "message": str(exc)})
        except CallTimeout as exc:
            return _json.encode({"status": "timeout", "message": str(exc)})
        except NotAccepted as exc:
            return _json.encode({"status": "not_accepted", "message": str(exc)})
        except LocalProtocolError as exc:
            return _json.encode({"status": "bad_payload", "message": str(exc)})
        return _json.encode({"status": "ok", "payload": outcome.payload, "error_code": outcome.error_code,
                             "error_description": outcome.error_description,
                             "error_details": outcome.error_details})  # fmt: skip

    # ------------------------------------------------------------------ events
    async def _forward_events(self) -> None:
        with self.events.subscribe(maxsize=10_000) as sub:
            async for event in sub:
                if event.node or len(self._live_nodes) < 2:
                    continue  # another node's event, or no other node to tell (the single-node default)
                try:
                    subject = self.names.subject("events", key_for(self.node), event.kind.value)
                    await self.bus.publish(subject, _json.encode(event.as_json()))
                    self.forwarded += 1
                except BusError as exc:
                    log.warning("event %s not forwarded: %s", event.seq, exc)

    async def _remote_event(self, subject: str, data: bytes) -> None:
        origin = subject.split(".")[3]  # cw.<cluster>.events.<node>.<kind>
        if origin == key_for(self.node):
            return
        got = _decode.decode(data)
        self.received += 1
        at = datetime.fromisoformat(str(got["at"]).replace("Z", "+00:00"))
        event = self.events.publish(Kind(got["kind"]), at, got.get("charger_id"), got.get("data") or {},
                                    node=str(got.get("node") or origin))  # fmt: skip
        if event.kind is Kind.CONNECTION and not event.data.get("connected") and event.charger_id:
            held = self.elsewhere.get(event.charger_id)
            if held is not None and key_for(held[0]) == origin:
                del self.elsewhere[event.charger_id]
        self.on_remote(event)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def holder(charger_id: str, *, presence: KeyValue, nodes: KeyValue) -> str | None:
    """The live node holding the charger's link, per the bus; None when no live node holds it."""
    found = await presence.get(key_for(charger_id))
    if found is None:
        return None
    node = str(_decode.decode(found.value).get("node"))
    return node if await nodes.get(key_for(node)) is not None else None


async def call_through(
    bus: Bus, charger_id: str, action: str, payload: dict[str, Any], *, call_timeout: float,
    presence: KeyValue | None = None, nodes: KeyValue | None = None, me: str | None = None, names: Names = Names(),
) -> CallOutcome:  # fmt: skip
    """Send ``action`` to the charger through whichever node holds its link (a node, or the CLI's ``--bus``)."""
    presence = presence or await bus.bucket(names.presence)
    nodes = nodes or await bus.bucket(names.nodes, ttl=NODE_TTL)
    node = await holder(charger_id, presence=presence, nodes=nodes)
    if node is None or node == me:
        raise ChargerOffline(f"charger {charger_id!r} is not connected to any node")
    request = _json.encode({"charger": charger_id, "action": action, "payload": payload})
    try:
        reply = await bus.request(
            names.subject("node", key_for(node), "call"), request, wait_s=call_timeout + CALL_GRACE
        )
    except NoResponder:
        raise ChargerOffline(f"charger {charger_id!r}: its node {node} is gone") from None
    except RequestTimeout:
        raise CallTimeout(f"charger {charger_id!r} (on node {node}) did not answer {action} in time") from None
    return _outcome(_decode.decode(reply), action)


def _outcome(reply: dict[str, Any], action: str) -> CallOutcome:
    status = reply.get("status")
    message = str(reply.get("message", ""))
    if status == "ok":
        return CallOutcome(action=action, payload=reply.get("payload"), error_code=reply.get("error_code"),
                           error_description=reply.get("error_description"),
                           error_details=reply.get("error_details"))  # fmt: skip
    if status == "timeout":
        raise CallTimeout(message)
    if status == "not_accepted":
        raise NotAccepted(message)
    if status == "bad_payload":
        raise LocalProtocolError(message)
    raise ChargerOffline(message)


__all__ = ["DEFAULT_CLUSTER", "NODE_TTL", "Cluster", "Event", "Names"]
