"""``python -m bench.bus``: the cluster bus's three operations on NATS and on Redis, side by side in one run
(ADR 0008). Both brokers run on this machine (NATS with JetStream at 127.0.0.1:4222, Redis at :6379).

1. **Routed command**: a request and its reply between two clients (NATS request/reply; Redis: the requester
   PUBLISHes on the responder's channel and BLPOPs its own reply list), the path of a REST call to a charger
   linked to another node.
2. **Event fan-out**: 300-byte events published by one node until another has received them all (NATS subject;
   Redis PUBLISH); the figure per event is the total time over the count.
3. **Presence write**: one key per charger (NATS JetStream KV put: persisted, acknowledged; Redis SET).

For each: wall-clock latency p50/p99 per operation, the broker's CPU time per operation read from
/proc/PID/stat (utime + stime) before and after, and this process's CPU per operation (both clients: what a
node spends), so a noisy machine does not move the figures much. Rounds are
interleaved (NATS, Redis, NATS, ...) and the medians of the rounds reported with their spread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def broker_pid(name: str) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    return int(entry.name)
            except OSError:
                continue
    return None


def cpu_s(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


Result = tuple[list[float], float, float]  # latencies (s), broker CPU s per op, client CPU s per op


async def timed(op: Callable[[int], Awaitable[None]], n: int, pid: int | None) -> Result:
    lat = []
    before, mine = cpu_s(pid), time.process_time()
    for i in range(n):
        t = time.perf_counter()
        await op(i)
        lat.append(time.perf_counter() - t)
    return lat, (cpu_s(pid) - before) / n, (time.process_time() - mine) / n


async def fan_out(op: Callable[[int], Awaitable[None]], n: int, pid: int | None,
                  received: Callable[[], Awaitable[object]]) -> Result:
    """Publish ``n`` events and wait until the other client has them all: the time per event (as one
    latency sample per event: total / n) and the broker's CPU per event."""
    before, mine, t = cpu_s(pid), time.process_time(), time.perf_counter()
    for i in range(n):
        await op(i)
    await asyncio.wait_for(received(), 60)
    per = (time.perf_counter() - t) / n
    return [per] * n, (cpu_s(pid) - before) / n, (time.process_time() - mine) / n


async def nats_ops(n: int, pid: int | None) -> dict[str, Result]:
    import nats

    a, b = await nats.connect("nats://127.0.0.1:4222"), await nats.connect("nats://127.0.0.1:4222")

    async def answer(msg: object) -> None:
        await msg.respond(b"ok")  # type: ignore[attr-defined]

    await b.subscribe("bench.call", cb=answer)
    got = asyncio.Event()
    count = 0

    async def take(msg: object) -> None:
        nonlocal count
        count += 1
        if count == n:
            got.set()

    await b.subscribe("bench.events", cb=take)
    kv = await a.jetstream().create_key_value(bucket="bench_presence", history=1)
    payload = b"x" * 300

    async def call(i: int) -> None:
        await a.request("bench.call", b"req", timeout=2)

    async def event(i: int) -> None:
        await a.publish("bench.events", payload)

    async def put(i: int) -> None:
        await kv.put(f"C{i % 1000}", b'{"node":"n1"}')

    out = {"routed command": await timed(call, n, pid)}
    out["event fan-out"] = await fan_out(event, n, pid, got.wait)
    out["presence write"] = await timed(put, n, pid)
    await a.jetstream().delete_key_value("bench_presence")
    await a.close()
    await b.close()
    return out


async def redis_ops(n: int, pid: int | None) -> dict[str, Result]:
    import redis.asyncio as redis

    a, b, c = (redis.Redis(host="127.0.0.1", port=6379) for _ in range(3))
    sub = b.pubsub()
    await sub.subscribe("bench.call", "bench.events")
    await sub.get_message(timeout=1)
    await sub.get_message(timeout=1)
    received = 0

    async def respond() -> None:
        nonlocal received
        async for msg in sub.listen():
            if msg["type"] != "message":
                continue
            if msg["channel"] == b"bench.call":
                await c.lpush(b"bench.reply." + msg["data"], b"ok")
            else:
                received += 1
                if received >= n:
                    all_in.set()

    all_in = asyncio.Event()
    responder = asyncio.ensure_future(respond())
    payload = b"x" * 300

    async def call(i: int) -> None:
        key = f"{i}".encode()
        await a.publish("bench.call", key)
        await a.blpop([b"bench.reply." + key], timeout=2)

    async def event(i: int) -> None:
        await a.publish("bench.events", payload)

    async def put(i: int) -> None:
        await a.set(f"bench:presence:C{i % 1000}", b'{"node":"n1"}')

    out = {"routed command": await timed(call, n, pid)}
    out["event fan-out"] = await fan_out(event, n, pid, all_in.wait)
    out["presence write"] = await timed(put, n, pid)
    responder.cancel()
    for client in (a, b, c):
        await client.aclose()
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.bus", description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=2000, help="operations of each kind per round (default 2000)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per broker (default 5)")
    args = p.parse_args()
    pids = {"NATS": broker_pid("nats-server"), "Redis": broker_pid("redis-server")}
    rounds: dict[str, list[dict[str, Result]]] = {"NATS": [], "Redis": []}
    for _ in range(args.rounds):
        rounds["NATS"].append(asyncio.run(nats_ops(args.ops, pids["NATS"])))
        rounds["Redis"].append(asyncio.run(redis_ops(args.ops, pids["Redis"])))
    print(f"{args.rounds} interleaved rounds of {args.ops} operations; medians of the rounds [min-max]")
    print(f"{'operation':<16} {'broker':<6} {'p50 us':>18} {'p99 us':>20} {'broker CPU us/op':>18} "
          f"{'clients CPU us/op':>18}")
    for op in ("routed command", "event fan-out", "presence write"):
        for broker in ("NATS", "Redis"):
            p50s = [statistics.median(r[op][0]) * 1e6 for r in rounds[broker]]
            p99s = [sorted(r[op][0])[int(0.99 * len(r[op][0]))] * 1e6 for r in rounds[broker]]
            cpus = [r[op][1] * 1e6 for r in rounds[broker]]
            clients = [r[op][2] * 1e6 for r in rounds[broker]]

            def fmt(xs: list[float]) -> str:
                return f"{statistics.median(xs):.0f} [{min(xs):.0f}-{max(xs):.0f}]"

            print(f"{op:<16} {broker:<6} {fmt(p50s):>18} {fmt(p99s):>20} {fmt(cpus):>18} {fmt(clients):>18}")


if __name__ == "__main__":
    main()
