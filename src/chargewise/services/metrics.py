"""Counters the hot path keeps for ``/metrics``: plain dict increments and a bucket search per message, no
locks, no label objects (prometheus-client's own ``labels().inc()`` costs several times more per message).
``adapters.prometheus`` reads them, with the gauges it computes, when Prometheus scrapes.

What is counted where: every call a charger sent and how we answered it (the transport adapter, with the
time from receipt to answer); every command we sent and how it ended (the ``Registry``'s outcome observer);
CallError codes both ways; transactions and the energy of stopped ones (events, by :meth:`Metrics.run`).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from chargewise.services.events import EventHub, Kind

#: seconds; the upper bounds of the latency histograms (Prometheus ``le``), +Inf implied
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(slots=True)
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, count)`` pairs as Prometheus wants them, ``+Inf`` last."""
        out, running = [], 0
        for bound, count in zip([*(repr(b) for b in BUCKETS), "+Inf"], self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out


class Metrics:
    """One per process (``bootstrap``); the transport adapter and the registry's observer feed it."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], int] = {}  # (action, result) -> count; result "ok" or an error kind
        self.latency: dict[str, Histogram] = {}  # action -> time from receipt to answer
        self.call_errors: dict[tuple[str, str], int] = {}  # (direction "sent"/"received", code) -> count
        self.commands: dict[tuple[str, str], int] = {}  # (action, outcome) -> count
        self.command_latency: dict[str, Histogram] = {}
        self.transactions: dict[str, int] = {"started": 0, "stopped": 0}
        self.energy_wh = 0.0  # of stopped transactions

    def served(self, action: str, result: str, seconds: float) -> None:
        """A charger's call was answered ``result`` (``ok``, or the CallError code we sent)."""
        key = (action, result)
        self.messages[key] = self.messages.get(key, 0) + 1
        histogram = self.latency.get(action)
        if histogram is None:
            histogram = self.latency[action] = Histogram()
        histogram.observe(seconds)
        if result != "ok":
            self.call_error("sent", result)

    def call_error(self, direction: str, code: str) -> None:
        key = (direction, code)
        self.call_errors[key] = self.call_errors.get(key, 0) + 1

    def command_ended(self, charger_id: str, action: str, outcome: str, seconds: float | None) -> None:
        """The ``Registry``'s outcome observer: one of our commands ended (ok, call_error, timeout, offline)."""
        key = (action, outcome)
        self.commands[key] = self.commands.get(key, 0) + 1
        if seconds is not None:
            histogram = self.command_latency.get(action)
            if histogram is None:
                histogram = self.command_latency[action] = Histogram()
            histogram.observe(seconds)

    async def run(self, events: EventHub) -> None:
        """Count transactions and their energy from the event hub, until cancelled."""
        with events.subscribe(kinds=[Kind.TRANSACTION], maxsize=10_000) as sub:
            async for event in sub:
                state = str(event.data.get("state"))
                if state in self.transactions:
                    self.transactions[state] += 1
                energy = event.data.get("energy_wh")
                if state == "stopped" and isinstance(energy, int | float):
                    self.energy_wh += float(energy)
