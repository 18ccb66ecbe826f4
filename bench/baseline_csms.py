"""The baseline: an OCPP 1.6J central system written the documented way on the ``ocpp`` library.

A ``ocpp.v16.ChargePoint`` subclass with ``@on`` handlers, served by ``websockets.serve(...,
subprotocols=["ocpp1.6"])`` on the default asyncio loop (no uvloop), as in the library's README. The handlers
parse the same fields as chargewise's 1.6 handlers (timestamps, numbers, units, transaction ownership,
StartTransaction deduplication) but keep everything in dictionaries: nothing is written to a database, which
favours the baseline in the comparison.

One difference from the README: the library logs every message at INFO and the README turns INFO on; here
the log level is WARNING, so the baseline does not pay for writing a log line per message (again in its favour).

Run: ``python -m bench.baseline_csms --host 127.0.0.1 --port 9100``. It prints one JSON line when listening.
"""

# mypy: disable-error-code="misc,untyped-decorator"
# (the ocpp library has no type hints)
from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as LibraryChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.typing import Subprotocol

_SCALE = {"kWh": ("Wh", 1000.0), "kW": ("W", 1000.0), "kvarh": ("varh", 1000.0), "kvar": ("var", 1000.0)}


class State:
    """What chargewise keeps in its store, kept in memory here."""

    def __init__(self) -> None:
        self.boots: dict[str, dict[str, Any]] = {}
        self.transactions: dict[int, tuple[str, int]] = {}  # id -> (charger id, connector)
        self.dedupe: dict[str, int] = {}
        self.ids = itertools.count(1)
        self.samples = 0  # counted, not kept: the baseline does not store them


STATE = State()


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def default_unit(measurand: str) -> str | None:
    if measurand.startswith("Energy.Active"):
        return "Wh"
    if measurand.startswith("Power.Active"):
        return "W"
    if measurand.startswith("Current"):
        return "A"
    return "V" if measurand == "Voltage" else None


def to_samples(charger_id: str, connector: int, tx_id: int | None, meter_value: list[Any]) -> list[dict[str, Any]]:
    """The same parsing as chargewise's ``handlers.v16.meter_values.to_meter_values`` (snake_case keys here)."""
    samples = []
    for mv in meter_value:
        at = parse_time(mv["timestamp"])
        for sv in mv["sampled_value"]:
            measurand = sv.get("measurand", "Energy.Active.Import.Register")
            value, unit = float(sv["value"]), sv.get("unit") or default_unit(measurand)
            if unit in _SCALE:
                unit, factor = _SCALE[unit]
                value *= factor
            samples.append(
                {"charger_id": charger_id, "evse_id": connector, "transaction_id": tx_id, "timestamp": at,
                 "measurand": measurand, "value": value, "unit": unit, "phase": sv.get("phase"),
                 "context": sv.get("context")}
            )  # fmt: skip
    return samples


def id_tag_info() -> dict[str, str]:
    return {"status": AuthorizationStatus.accepted}  # free charging, as chargewise runs in the benchmark


class ChargePoint(LibraryChargePoint):
    @on(Action.boot_notification)
    async def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs: Any) -> Any:
        STATE.boots[self.id] = {
            "vendor": charge_point_vendor, "model": charge_point_model,
            "serial": kwargs.get("charge_point_serial_number") or kwargs.get("charge_box_serial_number"),
            "firmware": kwargs.get("firmware_version"),
        }  # fmt: skip
        now = datetime.now(UTC)
        return call_result.BootNotification(
            current_time=format_time(now), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=format_time(datetime.now(UTC)))

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> Any:
        return call_result.Authorize(id_tag_info=id_tag_info())

    @on(Action.start_transaction)
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs: Any
    ) -> Any:
        parse_time(timestamp)
        key = f"{self.id}|{connector_id}|{id_tag}|{meter_start}|{timestamp}"
        tx_id = STATE.dedupe.get(key)
        if tx_id is None:
            tx_id = STATE.dedupe[key] = next(STATE.ids)
            STATE.transactions[tx_id] = (self.id, connector_id)
        return call_result.StartTransaction(transaction_id=tx_id, id_tag_info=id_tag_info())

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id: int, meter_value: list[Any], **kwargs: Any) -> Any:
        tx_id = kwargs.get("transaction_id")
        if tx_id is not None:
            owner = STATE.transactions.get(tx_id)
            if owner is None or owner[0] != self.id:
                tx_id = None
        STATE.samples += len(to_samples(self.id, connector_id, tx_id, meter_value))
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, transaction_id: int, timestamp: str, meter_stop: int, **kwargs: Any) -> Any:
        parse_time(timestamp)
        owner = STATE.transactions.pop(transaction_id, None)
        if owner is not None and owner[0] == self.id:
            STATE.samples += len(to_samples(self.id, owner[1], transaction_id, kwargs.get("transaction_data", [])))
        if "id_tag" in kwargs:
            return call_result.StopTransaction(id_tag_info=id_tag_info())
        return call_result.StopTransaction()


async def on_connect(websocket: Any) -> None:
    """The README's connection handler: refuse without the subprotocol, then run the charge point."""
    if websocket.subprotocol is None:
        await websocket.close()
        return
    charge_point_id = websocket.request.path.strip("/").removeprefix("ocpp/")
    charge_point = ChargePoint(charge_point_id, websocket)
    with contextlib.suppress(websockets.exceptions.ConnectionClosed):
        await charge_point.start()


async def serve(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with websockets.serve(on_connect, host, port, subprotocols=[Subprotocol("ocpp1.6")]):
        print(json.dumps({"listening": port, "uvloop": "uvloop" in sys.modules, "loop": type(loop).__module__}))
        sys.stdout.flush()
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
