"""Pair a simulated firmware with a fake CSMS through a fake link, in simulated time (no sockets, no sleeps).

The fake CSMS is our own sans-I/O :class:`Session` in the CSMS role, so every message in both directions is
validated against the official schemas. It answers every call from a small table and records them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.session import CallReceived, ErrorReceived, ResultReceived, Role, Session
from chargewise.simulator.clock import iso
from chargewise.simulator.faults import ConnectorFault, FlowsBlackholed, LinkLost, NetworkPath, Scenario, load_scenario
from chargewise.simulator.firmware import Firmware
from chargewise.simulator.ports import Disconnect, Download, Upload
from chargewise.simulator.templates import Template, load_template
from chargewise.simulator.workload import Visit

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def answers(version: OcppVersion) -> dict[str, Callable[[dict[str, Any], float], dict[str, Any]]]:
    ids = itertools.count(100)
    v16 = version is OcppVersion.V16
    accepted = {"idTagInfo": {"status": "Accepted"}} if v16 else {"idTokenInfo": {"status": "Accepted"}}
    return {
        "BootNotification": lambda p, now: {"currentTime": iso(now), "interval": 300, "status": "Accepted"},
        "Heartbeat": lambda p, now: {"currentTime": iso(now)},
        "Authorize": lambda p, now: dict(accepted),
        "StartTransaction": lambda p, now: {"transactionId": next(ids), **accepted},
        "TransactionEvent": lambda p, now: dict(accepted) if p["eventType"] == "Started" else {},
        "DataTransfer": lambda p, now: {"status": "Accepted"},
    }


@dataclass
class FakeCsms:
    version: OcppVersion
    table: dict[str, Callable[[dict[str, Any], float], dict[str, Any]]] = field(default_factory=dict)
    received: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    results: dict[str, dict[str, Any] | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.session = Session(version=self.version, role=Role.CSMS, call_timeout=60)
        self.table = {**answers(self.version), **self.table}

    def receive(self, data: bytes, now: float) -> list[bytes]:
        for event in self.session.receive(data, now):
            self._handle(event, now)
        return self.session.outgoing()

    def _handle(self, event: Any, now: float) -> None:
        if isinstance(event, CallReceived):
            self.received.append((now, event.action, event.payload))
            answer = self.table.get(event.action, lambda p, t: {})(event.payload, now)
            for follow in self.session.reply(event.unique_id, answer):
                self._handle(follow, now)
        elif isinstance(event, ResultReceived):
            self.results[event.unique_id] = event.payload
        elif isinstance(event, ErrorReceived):
            self.results[event.unique_id] = f"{event.code}: {event.description}"

    def call(self, action: str, payload: dict[str, Any], now: float) -> str:
        return self.session.call(action, payload, now)

    def actions(self, name: str | None = None) -> list[tuple[float, str, dict[str, Any]]]:
        return [r for r in self.received if name is None or r[1] == name]


class Pair:
    """A firmware and a fake CSMS joined by a perfect link that can be cut (``online = False``)."""

    def __init__(
        self,
        version: OcppVersion,
        template: Template | str = "esp32-generic",
        *,
        scenario: str | Scenario = "healthy",
        visits: list[Visit] | None = None,
        seed: str = "test",
        table: dict[str, Callable[[dict[str, Any], float], dict[str, Any]]] | None = None,
        downloads: dict[str, bytes | None] | None = None,
    ) -> None:
        self.template = load_template(template) if isinstance(template, str) else template
        scen = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self.path = NetworkPath(scen, radio=self.template.radio, seed=seed, start=T0)
        self.fw = Firmware(
            charger_id="CP1", template=self.template, version=version, seed=seed, radio=self.path, visits=visits
        )
        self.csms = FakeCsms(version, table or {})
        self.now = T0
        self.online = True
        self.link_up = False
        self.blackholed = False  # half-open: frames die in both directions
        self.effects: list[Any] = []
        self.downloads = downloads or {}  # url -> image (None: HTTP 404); other URLs give b"image"
        self.fw.power_on(self.now)

    def flush(self) -> None:
        """Deliver frames both ways until both sides are quiet."""
        for _ in range(1000):
            out = self.fw.outgoing()
            for effect in self.fw.effects():
                self.effects.append(effect)
                if isinstance(effect, Disconnect) and self.link_up:
                    self.link_up = False
                    self.fw.disconnected(self.now)
                elif isinstance(effect, Download):
                    body = self.downloads.get(effect.url, b"image")
                    self.fw.download_done(self.now, ok=body is not None, body=body or b"", detail="HTTP 404")
                elif isinstance(effect, Upload):
                    self.fw.upload_done(self.now, ok=True)
            if not out:
                return
            if not self.link_up or self.blackholed:
                continue
            back: list[bytes] = []
            for frame in out:
                back += self.csms.receive(frame, self.now)
            for frame in back:
                self.fw.receive(frame, self.now)
        raise AssertionError("no quiescence")

    def call(self, action: str, payload: dict[str, Any]) -> Any:
        """The CSMS calls the charger; returns the answer (payload, or an error text)."""
        unique_id = self.csms.call(action, payload, self.now)
        for frame in self.csms.session.outgoing():
            self.fw.receive(frame, self.now)
        self.flush()
        return self.csms.results.get(unique_id)

    def cut(self, *, stay_down: bool = True) -> None:
        """The connection drops (no close frame); with ``stay_down`` it stays down until :meth:`restore`."""
        self.online = not stay_down
        self.blackholed = False
        if self.link_up:
            self.link_up = False
            self.fw.disconnected(self.now)
            self.csms.session.abandon()

    def restore(self) -> None:
        self.online = True

    def run(self, seconds: float) -> None:
        """Advance simulated time by ``seconds``, running every deadline and reconnecting when due."""
        end = self.now + seconds
        while True:
            self.flush()
            connect = self.fw.connect_at if not self.link_up else None
            due = [t for t in (self.fw.next_deadline(), connect, self.path.next_wakeup()) if t]
            step = min(due) if due else end
            if step > end:
                self.now = end
                self.fw.tick(self.now)
                self.flush()
                return
            self.now = max(self.now, step)
            self._network()
            if not self.link_up and self.fw.connect_at is not None and self.fw.connect_at <= self.now:
                if self.online:
                    self.link_up = True
                    self.fw.connected(self.now)
                else:
                    self.fw.connect_failed(self.now, "tcp", "unreachable")
            self.fw.tick(self.now)

    def _network(self) -> None:
        for event in self.path.advance(self.now, car_present=self.fw.car_present):
            if isinstance(event, LinkLost):
                self.cut(stay_down=False)
            elif isinstance(event, FlowsBlackholed):
                self.blackholed = self.link_up
            elif isinstance(event, ConnectorFault):
                self.fw.connector_fault(event.connector, event.error_code, self.now)
        failure = None if self.link_up else self.path.attempt()
        if failure is not None and self.fw.connect_at is not None and self.fw.connect_at <= self.now:
            self.fw.connect_failed(self.now, failure.stage, failure.detail)

    def sent(self, action: str) -> list[dict[str, Any]]:
        """Payloads of ``action`` the CSMS received, in order."""
        return [payload for _, name, payload in self.csms.received if name == action]
