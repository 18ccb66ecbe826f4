"""``GET /metrics`` in the Prometheus text format, on prometheus-client.

Nothing is counted here: at each scrape a collector reads the hot path's plain counters
(``services.metrics``) and computes the gauges from the live services (connections, queue depths, active
transactions, each site's allocation, the doctor's findings, events dropped). A scrape costs O(chargers).

Access: the bearer token, like the API (Prometheus sends it with ``authorization: {credentials: ...}`` or
``bearer_token_file``), unless the server was started with ``--metrics-public`` (a private port, a scraper
that cannot send a token); a refused scrape is a JSON Problem 401.
"""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from chargewise.adapters.http_access import ACCESS
from chargewise.adapters.http_common import problem
from chargewise.services.central import CentralSystem
from chargewise.services.connections import Registry
from chargewise.services.doctor_sweep import DoctorSweep
from chargewise.services.frame_trace import FrameTrace
from chargewise.services.metrics import Histogram, Metrics
from chargewise.services.smart_charging import SmartCharging

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, kw_only=True)
class MetricsDeps:
    metrics: Metrics
    central: CentralSystem
    registry: Registry
    token_ok: Callable[[str], bool]  # whether a bearer token may scrape
    public: bool = False  # serve --metrics-public: no token needed
    charging: SmartCharging | None = None
    sweep: DoctorSweep | None = None
    trace: FrameTrace | None = None


METRICS: web.AppKey[MetricsDeps] = web.AppKey("chargewise-metrics")


def admin_only(token: str) -> Callable[[str], bool]:
    """The check when only the admin token exists: constant-time equality."""
    return lambda given: hmac.compare_digest(given.encode(), token.encode())


async def _allowed(request: web.Request, deps: MetricsDeps, secret: str) -> bool:
    """Any API token (viewer and up) may scrape; without the token service, the admin token alone."""
    tokens = request.app.get(ACCESS)
    if tokens is not None:
        return await tokens.role_of(secret) is not None
    return deps.token_ok(secret)


class Collect(Collector):
    def __init__(self, deps: MetricsDeps) -> None:
        self.deps = deps

    def collect(self) -> Iterator[Metric]:
        d, m = self.deps, self.deps.metrics
        yield _gauge("chargewise_connections", "Chargers connected to this process", len(d.registry))
        messages = CounterMetricFamily("chargewise_messages", "Calls from chargers, by action and our answer",
                                       labels=["action", "result"])  # fmt: skip
        for (action, result), n in sorted(m.messages.items()):
            messages.add_metric([action, result], n)
        yield messages
        errors = CounterMetricFamily("chargewise_call_errors", "CallErrors by direction (sent: ours) and code",
                                     labels=["direction", "code"])  # fmt: skip
        for (direction, code), n in sorted(m.call_errors.items()):
            errors.add_metric([direction, code], n)
        yield errors
        yield _histogram("chargewise_message_seconds", "Time from a charger's call to our answer", m.latency)
        commands = CounterMetricFamily("chargewise_commands", "Commands sent to chargers, by action and outcome",
                                       labels=["action", "outcome"])  # fmt: skip
        for (action, outcome), n in sorted(m.commands.items()):
            commands.add_metric([action, outcome], n)
        yield commands
        yield _histogram("chargewise_command_seconds", "Round trip of a command to a charger", m.command_latency)
        yield _gauge("chargewise_meter_queue", "Meter values waiting for their group commit",
                     d.central.meters.pending())  # fmt: skip
        transactions = CounterMetricFamily("chargewise_transactions", "Transactions started and stopped",
                                           labels=["state"])  # fmt: skip
        for state, n in m.transactions.items():
            transactions.add_metric([state], n)
        yield transactions
        yield _counter("chargewise_energy_wh", "Energy of stopped transactions (Wh)", m.energy_wh)
        yield from self._live()

    def _live(self) -> Iterator[Metric]:
        d = self.deps
        telemetry = d.central.telemetry
        active = power = 0.0
        for charger in d.registry.links():
            for evse in telemetry.evses(charger.charger_id):
                active += evse.transaction_id is not None
                power += evse.power_w or 0.0
        yield _gauge("chargewise_transactions_active", "EVSEs with a running transaction (connected chargers)", active)
        yield _gauge("chargewise_power_w", "Power drawn now by the connected chargers' EVSEs (W)", power)
        if d.charging is not None:
            allocated = GaugeMetricFamily("chargewise_site_allocated_a", "Sum of the EVSE limits per site (A)",
                                          labels=["site"])  # fmt: skip
            node_w = GaugeMetricFamily("chargewise_site_node_w", "Allocated power per site node (W)",
                                       labels=["site", "node"])  # fmt: skip
            for name, site in sorted(d.charging.sites.items()):
                alloc = site.previous
                allocated.add_metric([name], sum(x.limit_a for x in alloc.limits.values()) if alloc else 0.0)
                for node, watts in sorted((alloc.node_w if alloc else {}).items()):
                    node_w.add_metric([name, node], watts)
            yield allocated
            yield node_w
        if d.sweep is not None:
            findings = GaugeMetricFamily("chargewise_doctor_findings", "Chargers by the doctor's top finding",
                                         labels=["cause"])  # fmt: skip
            for cause, n in sorted(Counter(t.cause for t in d.sweep.top.values()).items()):
                findings.add_metric([cause], n)
            yield findings
        events = d.central.events
        published = CounterMetricFamily("chargewise_events", "Events published, by kind", labels=["kind"])
        for kind, n in events.published.items():
            published.add_metric([kind.value], n)
        yield published
        yield _counter("chargewise_events_dropped", "Events slow listeners lost", events.dropped())
        yield _gauge("chargewise_event_listeners", "Event hub subscriptions", events.listeners())
        if d.trace is not None:
            yield _gauge("chargewise_trace_frames", "OCPP frames kept in the message trace", len(d.trace))
            yield _counter("chargewise_trace_redacted", "Frames redacted before being traced", d.trace.redacted)
        yield _counter("chargewise_link_signals_dropped", "Doctor samples dropped (batch full)",
                       d.central.link_signals.dropped)  # fmt: skip


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def _counter(name: str, text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, value=value)


def _histogram(name: str, text: str, by_action: dict[str, Histogram]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, text, labels=["action"])
    for action, h in sorted(by_action.items()):
        family.add_metric([action], h.cumulative(), sum_value=h.total)
    return family


def add_routes(app: web.Application, deps: MetricsDeps | None) -> None:
    """``GET /metrics`` (nothing when ``deps`` is None)."""
    if deps is None:
        return
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collect(deps))
    app[METRICS] = deps

    async def metrics(request: web.Request) -> web.StreamResponse:
        if not deps.public:
            given = request.headers.get("Authorization", "")
            if not given.startswith("Bearer ") or not await _allowed(request, deps, given[7:]):
                return problem(401, "missing or wrong bearer token for /metrics",
                               "send Authorization: Bearer <token>, or start the server with --metrics-public")
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/metrics", metrics)
