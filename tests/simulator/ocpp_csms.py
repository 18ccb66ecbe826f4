"""An independent minimal CSMS for 1.6 and 2.0.1, built on the mobilityhouse ``ocpp`` library (its own schema
validation, its own JSON handling) and served by ``websockets`` with subprotocol selection. The simulator
must work against it without leaning on our server's leniency.

It records every message and connection event, answers with configurable statuses, and lets a test call
the charger (``await csms.call(charger_id, call.RemoteStartTransaction(...))``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Record:
    at: float
    charger_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class Csms:
    """Serve on 127.0.0.1 (a free port). ``boot_status``: Accepted/Pending/Rejected; ``ping_interval`` /
    ``ping_timeout``: the server's WebSocket keep-alive (None: off); ``refuse``: answer HTTP 503."""

    boot_status: str = "Accepted"
    boot_interval: int = 300
    ping_interval: float | None = None
    ping_timeout: float | None = None
    close_timeout: float = 0.2  # how long a failing connection waits for the peer's close before aborting
    refuse: bool = False
    records: list[Record] = field(default_factory=list)
    events: list[tuple[float, str, str]] = field(default_factory=list)  # (time, charger id, open/close/refused)
    headers: dict[str, str | None] = field(default_factory=dict)  # Authorization header seen per charger
    points: dict[str, Any] = field(default_factory=dict)

    port: int = 0

    async def __aenter__(self) -> Csms:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen (again) on 127.0.0.1, on the same port after a :meth:`stop`."""
        self._server = await websockets.serve(
            self._serve,
            "127.0.0.1",
            self.port,
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            close_timeout=self.close_timeout,
            process_request=self._process_request,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection (close frame 1001), as a server going down does."""
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        charger_id = request.path.rsplit("/", 1)[-1]
        self.headers[charger_id] = request.headers.get("Authorization")
        if self.refuse:
            self.events.append((time.monotonic(), charger_id, "refused"))
            return connection.respond(503, "try later\n")
        return None

    async def _serve(self, connection: ServerConnection) -> None:
        charger_id = connection.request.path.rsplit("/", 1)[-1] if connection.request else "?"
        kind = ChargePoint16Csms if connection.subprotocol == "ocpp1.6" else ChargePoint201Csms
        point = kind(charger_id, connection, self)
        self.points[charger_id] = point
        self.events.append((time.monotonic(), charger_id, "open"))
        try:
            await point.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.events.append((time.monotonic(), charger_id, "close"))

    def record(self, charger_id: str, action: str, payload: dict[str, Any]) -> None:
        self.records.append(Record(at=time.monotonic(), charger_id=charger_id, action=action, payload=payload))

    def messages(self, charger_id: str | None = None, action: str | None = None) -> list[Record]:
        return [
            r
            for r in self.records
            if (charger_id is None or r.charger_id == charger_id) and (action is None or r.action == action)
        ]

    def opens(self, charger_id: str) -> list[float]:
        return [t for t, cid, what in self.events if cid == charger_id and what in ("open", "refused")]

    async def wait_for(self, predicate: Callable[[], object], within: float = 20.0) -> None:
        """Poll ``predicate`` until it is truthy; fail the test after ``within`` seconds."""
        await until(predicate, within)

    async def call(self, charger_id: str, request: Any) -> Any:
        return await self.points[charger_id].call(request)

    async def close_charger(self, charger_id: str) -> None:
        """Close the charger's WebSocket cleanly (a close frame), as a server restart would."""
        await self.points[charger_id]._connection.close()


async def until(predicate: Callable[[], object], within: float = 20.0) -> None:
    """Poll ``predicate`` every 20 ms until it is truthy; TimeoutError after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.02)


_tx_ids = itertools.count(1)


class ChargePoint16Csms(ChargePoint16):  # type: ignore[misc]
    def __init__(self, charger_id: str, connection: ServerConnection, csms: Csms) -> None:
        super().__init__(charger_id, connection, response_timeout=10)
        self.csms = csms

    def _rec(self, action: str, kwargs: dict[str, Any]) -> None:
        self.csms.record(self.id, action, kwargs)

    @on(Action16.boot_notification)
    def boot(self, **kw: Any) -> Any:
        self._rec("BootNotification", kw)
        return result16.BootNotification(
            current_time=_now(), interval=self.csms.boot_interval, status=self.csms.boot_status
        )

    @on(Action16.heartbeat)
    def heartbeat(self, **kw: Any) -> Any:
        self._rec("Heartbeat", kw)
        return result16.Heartbeat(current_time=_now())

    @on(Action16.status_notification)
    def status(self, **kw: Any) -> Any:
        self._rec("StatusNotification", kw)
        return result16.StatusNotification()

    @on(Action16.authorize)
    def authorize(self, **kw: Any) -> Any:
        self._rec("Authorize", kw)
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action16.start_transaction)
    def start_transaction(self, **kw: Any) -> Any:
        tx = next(_tx_ids)
        self._rec("StartTransaction", {**kw, "assigned": tx})
        return result16.StartTransaction(transaction_id=tx, id_tag_info={"status": "Accepted"})

    @on(Action16.meter_values)
    def meter_values(self, **kw: Any) -> Any:
        self._rec("MeterValues", kw)
        return result16.MeterValues()

    @on(Action16.stop_transaction)
    def stop_transaction(self, **kw: Any) -> Any:
        self._rec("StopTransaction", kw)
        return result16.StopTransaction()

    @on(Action16.data_transfer)
    def data_transfer(self, **kw: Any) -> Any:
        self._rec("DataTransfer", kw)
        return result16.DataTransfer(status="Accepted")

    @on(Action16.security_event_notification)
    def security_event(self, **kw: Any) -> Any:
        self._rec("SecurityEventNotification", kw)
        return result16.SecurityEventNotification()

    @on(Action16.firmware_status_notification)
    def firmware_status(self, **kw: Any) -> Any:
        self._rec("FirmwareStatusNotification", kw)
        return result16.FirmwareStatusNotification()

    @on(Action16.diagnostics_status_notification)
    def diagnostics_status(self, **kw: Any) -> Any:
        self._rec("DiagnosticsStatusNotification", kw)
        return result16.DiagnosticsStatusNotification()


class ChargePoint201Csms(ChargePoint201):  # type: ignore[misc]
    def __init__(self, charger_id: str, connection: ServerConnection, csms: Csms) -> None:
        super().__init__(charger_id, connection, response_timeout=10)
        self.csms = csms

    def _rec(self, action: str, kwargs: dict[str, Any]) -> None:
        self.csms.record(self.id, action, kwargs)

    @on(Action201.boot_notification)
    def boot(self, **kw: Any) -> Any:
        self._rec("BootNotification", kw)
        return result201.BootNotification(
            current_time=_now(), interval=self.csms.boot_interval, status=self.csms.boot_status
        )

    @on(Action201.heartbeat)
    def heartbeat(self, **kw: Any) -> Any:
        self._rec("Heartbeat", kw)
        return result201.Heartbeat(current_time=_now())

    @on(Action201.status_notification)
    def status(self, **kw: Any) -> Any:
        self._rec("StatusNotification", kw)
        return result201.StatusNotification()

    @on(Action201.authorize)
    def authorize(self, **kw: Any) -> Any:
        self._rec("Authorize", kw)
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on(Action201.transaction_event)
    def transaction_event(self, **kw: Any) -> Any:
        self._rec("TransactionEvent", kw)
        if kw["event_type"] == "Started":
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()

    @on(Action201.notify_event)
    def notify_event(self, **kw: Any) -> Any:
        self._rec("NotifyEvent", kw)
        return result201.NotifyEvent()

    @on(Action201.notify_report)
    def notify_report(self, **kw: Any) -> Any:
        self._rec("NotifyReport", kw)
        return result201.NotifyReport()

    @on(Action201.security_event_notification)
    def security_event(self, **kw: Any) -> Any:
        self._rec("SecurityEventNotification", kw)
        return result201.SecurityEventNotification()

    @on(Action201.firmware_status_notification)
    def firmware_status(self, **kw: Any) -> Any:
        self._rec("FirmwareStatusNotification", kw)
        return result201.FirmwareStatusNotification()

    @on(Action201.log_status_notification)
    def log_status(self, **kw: Any) -> Any:
        self._rec("LogStatusNotification", kw)
        return result201.LogStatusNotification()
