"""A load generator process: many simulated OCPP 1.6J chargers on picows + uvloop, driven over stdin/stdout.

The orchestrator (``bench.__main__``) starts one process per ~12,500 chargers, each with its own loopback
source address (127.0.0.x) so that no process runs out of ephemeral ports, and sends JSON commands, one a line:

``{"cmd": "connect", "n": N, "start_tx": true, "concurrency": C, "within": S}``
    open N more chargers: WebSocket (subprotocol ocpp1.6), BootNotification, and StartTransaction if asked;
    none is started after S seconds (optional): those are counted as skipped.
``{"cmd": "run", "conns": M, "mix": "mv" | "mix", "rate": R | null, "start": T0, "measure_from": T1, "measure_to": T2}``
    drive the first M chargers from wall-clock time T0: closed loop (``rate`` null: the next call leaves as soon
    as the previous one is answered) or open loop (R calls/s spread evenly over the M chargers; latency is then
    counted from the scheduled time, so queueing in the generator is not hidden). Only calls answered with a
    CALLRESULT between T1 and T2 are counted. Stops sending at T2 and waits up to 5 s for calls in flight.
``{"cmd": "start_tx", "n": N, "concurrency": C}``
    a StartTransaction on each of the first N chargers that has no transaction yet.
``{"cmd": "alive", "concurrency": C}``
    one Heartbeat on every open charger; counts the answers.
``{"cmd": "close"}`` / ``{"cmd": "quit"}``

Each answer is one JSON line. One call is in flight per connection at any time, as OCPP-J requires.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import time
from collections import Counter
from typing import Any

import msgspec
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

HIST_BASE = math.log(1.02)  # latency histogram: buckets 2 % wide, in microseconds
STRIP_S = 0.25  # the worst latency is also kept per STRIP_S of the measured window (when the tail happened)
MIX_EVERY = 5  # in the mix, every 5th call of a charger is a Heartbeat (1 Heartbeat : 4 MeterValues)
CALL_TIMEOUT = 30.0
SKIPPED = object()  # a charger not even tried: the connect command's time limit had passed

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode

METER_VALUES = (
    '[2,"{uid}","MeterValues",{{"connectorId":1,"transactionId":{tx},"meterValue":[{{"timestamp":"{ts}",'
    '"sampledValue":['
    '{{"value":"{wh:.1f}","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register",'
    '"location":"Outlet","unit":"Wh"}},'
    '{{"value":"{w:.1f}","context":"Sample.Periodic","measurand":"Power.Active.Import","location":"Outlet",'
    '"unit":"W"}},'
    '{{"value":"{a1:.2f}","context":"Sample.Periodic","measurand":"Current.Import","location":"Outlet",'
    '"phase":"L1","unit":"A"}},'
    '{{"value":"{a2:.2f}","context":"Sample.Periodic","measurand":"Current.Import","location":"Outlet",'
    '"phase":"L2","unit":"A"}},'
    '{{"value":"{a3:.2f}","context":"Sample.Periodic","measurand":"Current.Import","location":"Outlet",'
    '"phase":"L3","unit":"A"}},'
    '{{"value":"{v:.1f}","context":"Sample.Periodic","measurand":"Voltage","location":"Outlet",'
    '"phase":"L1-N","unit":"V"}}'
    "]}}]}}]"
)
# --payload minimal: the energy register only, the smallest MeterValues a charger sends in a transaction
METER_VALUES_MINIMAL = (
    '[2,"{uid}","MeterValues",{{"connectorId":1,"transactionId":{tx},"meterValue":[{{"timestamp":"{ts}",'
    '"sampledValue":[{{"value":"{wh:.1f}","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register",'
    '"location":"Outlet","unit":"Wh"}}]}}]}}]'
)
PAYLOADS = {"realistic": METER_VALUES, "minimal": METER_VALUES_MINIMAL}
HEARTBEAT = '[2,"{uid}","Heartbeat",{{}}]'


class Clock:
    """The current RFC 3339 time, rebuilt at most once per second (chargers send second precision)."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        return self._text


CLOCK = Clock()


class Charger(WSListener):
    """One simulated charger's connection."""

    def __init__(self, gen: Generator, charger_id: str, index: int) -> None:
        self.gen = gen
        self.charger_id = charger_id
        self.index = index
        self.transport: WSTransport | None = None
        self.open = False
        self.tx_id = 0
        self.energy_wh = 1000.0 + index
        self.calls = index  # offsets the Heartbeat/MeterValues pattern between chargers
        self.uid = ""  # unique id of the call in flight, "" when none
        self.t0 = 0.0  # when that call was scheduled (open loop) or sent (closed loop)
        self.next_due = 0.0
        self.is_mv = False  # whether the load call in flight is a MeterValues
        self.future: asyncio.Future[Any] | None = None  # set for setup calls awaited with request()

    # ---------------------------------------------------------------- picows callbacks
    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self.open = True

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.open = False
        self.gen.disconnects += 1
        if self.future is not None and not self.future.done():
            self.future.set_exception(ConnectionError("disconnected"))

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is not WSMsgType.TEXT:
            return
        message = _decode(frame.get_payload_as_bytes())
        if message[0] == 2:  # the server calls us: not in this benchmark; refuse politely
            reply = [4, message[1], "NotImplemented", "benchmark charger", {}]
            transport.send(WSMsgType.TEXT, _encode(reply))
            return
        if message[1] != self.uid:
            return  # a late answer to a call already given up
        self.uid = ""
        if self.future is not None:
            future, self.future = self.future, None
            if not future.done():
                future.set_result(message)
            return
        self.gen.answered(self, message[0] == 3)

    # ---------------------------------------------------------------- calls
    def send(self, text: str, uid: str, t0: float) -> None:
        self.uid = uid
        self.t0 = t0
        assert self.transport is not None
        self.transport.send(WSMsgType.TEXT, text.encode())

    async def request(self, action: str, payload: dict[str, Any]) -> Any:
        """Send one call and wait for its answer (setup only)."""
        self.calls += 1
        uid = f"s{self.calls}"
        self.future = asyncio.get_running_loop().create_future()
        self.send(_encode([2, uid, action, payload]).decode(), uid, 0.0)
        answer = await asyncio.wait_for(self.future, CALL_TIMEOUT)
        if answer[0] != 3:
            raise RuntimeError(f"{action}: CALLERROR {answer[2]} {answer[3]}")
        return answer[2]

    def next_call(self, mix: bool) -> tuple[str, str, bool]:
        """The next load call's text, unique id, and whether it is a MeterValues."""
        self.calls += 1
        uid = str(self.calls)
        if mix and self.calls % MIX_EVERY == 0:
            return HEARTBEAT.format(uid=uid), uid, False
        self.energy_wh += 12.3
        phase = self.calls % 7
        text = self.gen.meter_values.format(
            uid=uid, tx=self.tx_id, ts=CLOCK.now(), wh=self.energy_wh, w=7360.0 + phase * 10,
            a1=10.6 + phase * 0.01, a2=10.7, a3=10.5 + phase * 0.02, v=230.0 + phase * 0.1,
        )  # fmt: skip
        return text, uid, True


class Run:
    """One load phase over some chargers."""

    def __init__(self, loop: asyncio.AbstractEventLoop, cmd: dict[str, Any], chargers: list[Charger]) -> None:
        offset = loop.time() - time.time()  # wall clock -> loop clock
        self.loop = loop
        self.chargers = chargers
        self.mix = cmd["mix"] == "mix"
        self.start = cmd["start"] + offset
        self.measure_from = cmd["measure_from"] + offset
        self.measure_to = cmd["measure_to"] + offset
        rate = cmd.get("rate")
        self.period = len(chargers) / rate if rate else 0.0  # open loop: seconds between one charger's calls
        self.hist: Counter[int] = Counter()
        self.answered = self.answered_mv = self.errors = self.sent = 0
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.late: Counter[int] = Counter()  # open loop: how late calls left after their scheduled time, ms
        self.worst: dict[int, float] = {}  # per STRIP_S of the window (by when answered): the worst latency, ms
        self.count: Counter[int] = Counter()  # per STRIP_S of the window: calls answered with a CALLRESULT

    def begin(self) -> None:
        for j, charger in enumerate(self.chargers):
            charger.next_due = self.start + (j / len(self.chargers)) * self.period
            self.loop.call_at(charger.next_due, self.fire, charger)

    def fire(self, charger: Charger) -> None:
        now = self.loop.time()
        if now >= self.measure_to or not charger.open or charger.uid:
            return
        if self.period and self.measure_from <= now:
            self.late[int((now - charger.next_due) * 1000)] += 1
        text, uid, is_mv = charger.next_call(self.mix)
        charger.is_mv = is_mv
        self.in_flight += 1
        self.sent += 1
        charger.send(text, uid, charger.next_due if self.period else now)

    def settle(self, charger: Charger, ok: bool) -> None:
        now = self.loop.time()
        self.in_flight -= 1
        if self.measure_from <= now < self.measure_to:
            if ok:
                self.answered += 1
                self.answered_mv += charger.is_mv
                latency_us = (now - charger.t0) * 1e6
                self.hist[int(math.log(latency_us) / HIST_BASE) if latency_us > 1 else 0] += 1
                strip = int((now - self.measure_from) / STRIP_S)
                self.worst[strip] = max(self.worst.get(strip, 0.0), latency_us / 1000)
                self.count[strip] += 1
            else:
                self.errors += 1
        if now >= self.measure_to:
            if self.in_flight == 0:
                self.idle.set()
            return
        if not self.period:
            self.fire(charger)
            return
        charger.next_due += self.period
        if charger.next_due <= now:
            self.fire(charger)
        else:
            self.loop.call_at(charger.next_due, self.fire, charger)

    async def finish(self) -> dict[str, Any]:
        await asyncio.sleep(max(0.0, self.measure_to - self.loop.time()))
        if self.in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.idle.wait(), 5.0)
        return {
            "answered": self.answered, "answered_mv": self.answered_mv, "errors": self.errors,
            "sent": self.sent, "unanswered": self.in_flight, "hist": dict(self.hist),
            "seconds": self.measure_to - self.measure_from, "late": dict(self.late),
            "worst": self.worst, "count": dict(self.count),
        }  # fmt: skip


class Generator:
    def __init__(self, url: str, source: str, prefix: str, payload: str = "realistic") -> None:
        self.url = url.rstrip("/") + "/"
        self.meter_values = PAYLOADS[payload]
        self.source = source
        self.prefix = prefix
        self.chargers: list[Charger] = []
        self.disconnects = 0
        self.run: Run | None = None

    def answered(self, charger: Charger, ok: bool) -> None:
        if self.run is not None:
            self.run.settle(charger, ok)

    async def connect(self, n: int, start_tx: bool, concurrency: int, within: float | None) -> dict[str, Any]:
        """Open ``n`` chargers, ``concurrency`` at a time; none is started after ``within`` seconds."""
        began = time.monotonic()
        deadline = began + within if within else math.inf
        limit = asyncio.Semaphore(concurrency)
        errors: Counter[str] = Counter()
        first = len(self.chargers)
        results = await asyncio.gather(
            *(self._open(i, start_tx, limit, errors, deadline) for i in range(first, first + n))
        )
        opened = [c for c in results if isinstance(c, Charger)]
        skipped = sum(1 for c in results if c is SKIPPED)
        self.chargers.extend(opened)
        return {
            "connected": len(opened), "failed": n - len(opened) - skipped, "skipped": skipped,
            "errors": dict(errors.most_common(5)), "seconds": round(time.monotonic() - began, 2),
            "total": len(self.chargers),
        }  # fmt: skip

    async def _open(
        self, i: int, start_tx: bool, limit: asyncio.Semaphore, errors: Counter[str], deadline: float
    ) -> Charger | object | None:
        charger_id = f"{self.prefix}-{i:06d}"
        async with limit:
            if time.monotonic() > deadline:
                return SKIPPED
            for attempt in range(3):
                try:
                    return await self._setup(charger_id, i, start_tx)
                except Exception as exc:  # counted and reported; retried twice
                    if attempt == 2:
                        errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                    await asyncio.sleep(0.5 + attempt)
        return None

    async def _setup(self, charger_id: str, i: int, start_tx: bool) -> Charger:
        _transport, charger = await ws_connect(
            lambda: Charger(self, charger_id, i), self.url + charger_id,
            extra_headers={"Sec-WebSocket-Protocol": "ocpp1.6"}, local_addr=(self.source, 0),
            websocket_handshake_timeout=30, read_buffer_init_size=4096, max_frame_size=1 << 20,
        )  # fmt: skip
        assert isinstance(charger, Charger)
        try:
            boot = await charger.request(
                "BootNotification",
                {"chargePointVendor": "Bench", "chargePointModel": "LoadGen-22", "chargePointSerialNumber": charger_id,
                 "firmwareVersion": "1.0.0"},
            )  # fmt: skip
            if boot.get("status") != "Accepted":
                raise RuntimeError(f"BootNotification answered {boot.get('status')}")
            if start_tx:
                await self._start_tx(charger)
        except BaseException:
            if charger.transport is not None:
                charger.transport.disconnect()
            raise
        return charger

    async def drive(self, cmd: dict[str, Any]) -> dict[str, Any]:
        chargers = [c for c in self.chargers[: cmd["conns"]] if c.open and c.tx_id]
        if not chargers:
            return {"answered": 0, "answered_mv": 0, "errors": 0, "sent": 0, "unanswered": 0, "hist": {},
                    "seconds": cmd["measure_to"] - cmd["measure_from"], "chargers": 0}  # fmt: skip
        for charger in chargers:
            charger.uid = ""  # forget calls a previous run gave up on
        run = self.run = Run(asyncio.get_running_loop(), cmd, chargers)
        run.begin()
        result = await run.finish()
        self.run = None
        result["chargers"] = len(chargers)
        return result

    async def start_transactions(self, n: int, concurrency: int) -> dict[str, Any]:
        """A StartTransaction on each of the first ``n`` chargers that has none yet."""
        limit = asyncio.Semaphore(concurrency)

        async def start(charger: Charger) -> bool:
            async with limit:
                try:
                    await self._start_tx(charger)
                except Exception:
                    return False
                return True

        todo = [c for c in self.chargers[:n] if c.open and not c.tx_id]
        started = await asyncio.gather(*(start(c) for c in todo))
        return {"started": sum(started), "failed": len(todo) - sum(started)}

    async def _start_tx(self, charger: Charger) -> None:
        started = await charger.request(
            "StartTransaction",
            {"connectorId": 1, "idTag": f"TAG{charger.index % 1000:04d}", "meterStart": int(charger.energy_wh),
             "timestamp": CLOCK.now()},
        )  # fmt: skip
        charger.tx_id = started["transactionId"]

    async def alive(self, concurrency: int) -> dict[str, Any]:
        limit = asyncio.Semaphore(concurrency)

        async def beat(charger: Charger) -> bool:
            async with limit:
                try:
                    await charger.request("Heartbeat", {})
                except Exception:
                    return False
                return True

        open_now = [c for c in self.chargers if c.open]
        answers = await asyncio.gather(*(beat(c) for c in open_now))
        return {"open": len(open_now), "answered": sum(answers), "disconnects": self.disconnects}

    async def close(self) -> dict[str, Any]:
        for charger in self.chargers:
            if charger.transport is not None and charger.open:
                charger.transport.send_close()
                charger.transport.disconnect()
        closed = len(self.chargers)
        self.chargers.clear()
        await asyncio.sleep(0.5)
        return {"closed": closed}


async def serve(gen: Generator) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    reply({"ready": True, "uvloop": isinstance(loop, uvloop.Loop)})
    while line := await reader.readline():
        cmd = _decode(line)
        name = cmd["cmd"]
        if name == "connect":
            reply(
                await gen.connect(cmd["n"], cmd.get("start_tx", False), cmd.get("concurrency", 100), cmd.get("within"))
            )
        elif name == "run":
            reply(await gen.drive(cmd))
        elif name == "start_tx":
            reply(await gen.start_transactions(cmd["n"], cmd.get("concurrency", 100)))
        elif name == "alive":
            reply(await gen.alive(cmd.get("concurrency", 200)))
        elif name == "close":
            reply(await gen.close())
        elif name == "quit":
            await gen.close()
            reply({"bye": True})
            return
        else:
            reply({"error": f"unknown command {name!r}"})


def reply(answer: dict[str, Any]) -> None:
    sys.stdout.write(_encode(answer).decode() + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description="bench load generator (driven by python -m bench)")
    parser.add_argument("--url", required=True, help="ws://HOST:PORT/ocpp/ (the charger id is appended)")
    parser.add_argument("--source", default="127.0.0.1", help="local address to connect from")
    parser.add_argument("--prefix", default="bench", help="charger id prefix")
    parser.add_argument("--payload", choices=sorted(PAYLOADS), default="realistic", help="MeterValues content")
    args = parser.parse_args()
    uvloop.run(serve(Generator(args.url, args.source, args.prefix, args.payload)))


if __name__ == "__main__":
    main()
