"""The MQTT broker, on aiomqtt: a thin pump between the broker and ``services.mqtt_bridge``.

Connect with a last will (the bridge's status ``offline``, retained), announce, then pump both ways: the
bridge's batches out, commands in (each in its own task: a start waits for the charger's answer). A lost
broker is retried with back-off (1 s doubling to 60 s, with jitter); nothing here ever waits on the OCPP side.
A clean stop publishes ``offline`` itself before disconnecting (a clean disconnect sends no will).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiomqtt

from chargewise.services import home_assistant as ha
from chargewise.services.mqtt_bridge import MqttBridge

log = logging.getLogger(__name__)
BACKOFF_MAX_S = 60.0


@dataclass(frozen=True, kw_only=True)
class MqttSettings:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    topics: ha.Topics = field(default_factory=ha.Topics)
    id_tag: str = "HomeAssistant"


class MqttUrlError(ValueError):
    """A ``--mqtt`` URL we cannot use; the message names the part and the fix."""


def parse_url(url: str) -> MqttSettings:
    """``mqtt://[USER[:PASSWORD]@]HOST[:PORT][/BASE][?discovery=PREFIX&id_tag=TAG]``."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise MqttUrlError(f"--mqtt {url[:80]!r}: give mqtt://HOST[:PORT][/BASE], e.g. mqtt://127.0.0.1:1883")
    try:
        port = parts.port or 1883
    except ValueError:
        raise MqttUrlError(f"--mqtt {url[:80]!r}: the port is not a number 1-65535") from None
    base = parts.path.strip("/") or "chargewise"
    if any(c in base for c in "+#") or "//" in base:
        raise MqttUrlError(f"--mqtt: topic base {base!r} may not hold +, # or an empty level")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"discovery", "id_tag"}
    if unknown:
        raise MqttUrlError(f"--mqtt: unknown option {sorted(unknown)[0]!r}; use discovery= or id_tag=")
    topics = ha.Topics(base=base, discovery=query.get("discovery", "homeassistant"))
    return MqttSettings(host=parts.hostname, port=port, username=unquote(parts.username) if parts.username else None,
                        password=unquote(parts.password) if parts.password else None, topics=topics,
                        id_tag=query.get("id_tag", "HomeAssistant"))  # fmt: skip


class MqttLink:
    """``run()`` as a background task until cancelled; ``connected`` says whether the broker is reached."""

    def __init__(self, settings: MqttSettings, bridge: MqttBridge, *, client_id: str = "chargewise") -> None:
        self.settings, self.bridge, self.client_id = settings, bridge, client_id
        self.connected = asyncio.Event()
        self._commands: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                wait = backoff * random.uniform(0.5, 1.0)
                log.warning("MQTT broker %s:%d: %s; retrying in %.0f s", self.settings.host, self.settings.port,
                            exc, wait)  # fmt: skip
                await asyncio.sleep(wait)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            else:
                backoff = 1.0

    async def _session(self) -> None:
        s, topics = self.settings, self.settings.topics
        will = aiomqtt.Will(topics.bridge, ha.OFFLINE, qos=1, retain=True)
        async with aiomqtt.Client(s.host, s.port, username=s.username, password=s.password,
                                  identifier=self.client_id, will=will, keepalive=30) as client:  # fmt: skip
            try:
                await client.subscribe(topics.commands, qos=1)
                await self._send(client, await self.bridge.announce())  # the bridge says "online" first
                self.connected.set()
                log.info("MQTT: connected to %s:%d, topics under %s/", s.host, s.port, topics.base)
                await self._pump(client)
            except asyncio.CancelledError:  # a clean stop: say offline ourselves (no will on a clean disconnect)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.publish(topics.bridge, ha.OFFLINE, qos=1, retain=True), 2.0)
                raise

    async def _pump(self, client: aiomqtt.Client) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._outgoing(client))
                group.create_task(self._incoming(client))
        except* aiomqtt.MqttError as lost:
            raise lost.exceptions[0] from None

    async def _outgoing(self, client: aiomqtt.Client) -> None:
        async for batch in self.bridge.updates():
            await self._send(client, batch)

    async def _incoming(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
            task = asyncio.get_running_loop().create_task(self._command(client, str(message.topic), payload))
            self._commands.add(task)
            task.add_done_callback(self._commands.discard)

    async def _command(self, client: aiomqtt.Client, topic: str, payload: bytes) -> None:
        try:
            said, states = await self.bridge.command(topic, payload)
            log.info("MQTT command %s: %s", topic, said)
            await self._send(client, states)
        except aiomqtt.MqttError:
            pass  # the session ends and reconnects; the state goes out with the next announce
        except Exception:
            log.exception("MQTT command %s failed", topic)

    async def _send(self, client: aiomqtt.Client, messages: list[ha.Message]) -> None:
        for m in messages:
            await client.publish(m.topic, m.payload, qos=1 if m.retain else 0, retain=m.retain)


def describe(settings: MqttSettings) -> dict[str, Any]:
    """What ``serve`` prints (never the password)."""
    return {"broker": f"{settings.host}:{settings.port}", "base": settings.topics.base,
            "discovery": settings.topics.discovery}  # fmt: skip
