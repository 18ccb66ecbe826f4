"""The operators' surfaces, wired for ``bootstrap``: the message trace, the metrics counters, the doctor's
sweep, manual current limits and Home Assistant over MQTT. ``bootstrap.start`` builds :class:`Ops` before the
ports open (the transport adapter records into the trace and the counters), hands the REST parts to the API,
and starts :meth:`Ops.background` with its other jobs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chargewise.adapters.http_trace import TraceDeps
from chargewise.adapters.prometheus import MetricsDeps, admin_only
from chargewise.domain.ports import Clock, Store
from chargewise.services.connections import OutcomeObserver, Registry
from chargewise.services.directory import Directory
from chargewise.services.doctor import Doctor
from chargewise.services.doctor_sweep import DoctorSweep
from chargewise.services.frame_trace import FrameTrace
from chargewise.services.manual_limits import ManualLimits
from chargewise.services.metrics import Metrics
from chargewise.services.profile_applier import ProfileApplier

if TYPE_CHECKING:
    from chargewise.adapters.mqtt import MqttLink, MqttSettings
    from chargewise.services.central import CentralSystem
    from chargewise.services.smart_charging import SmartCharging


@dataclass(frozen=True, kw_only=True)
class OpsSettings:
    trace_frames: int = 50  # per charger (0: no trace); serve --trace-frames
    trace_total: int = 20_000
    metrics_public: bool = False  # serve --metrics-public: /metrics without a token
    mqtt: MqttSettings | None = None  # serve --mqtt URL


@dataclass(kw_only=True)
class Ops:
    settings: OpsSettings
    metrics: Metrics
    trace: FrameTrace | None
    sweep: DoctorSweep | None = None
    limits: ManualLimits | None = None
    mqtt: MqttLink | None = None
    jobs: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def outcomes(self, other: OutcomeObserver) -> OutcomeObserver:
        """The registry's outcome observer: ``other`` (the doctor's) and the metrics'."""

        def both(charger_id: str, action: str, outcome: str, seconds: float | None) -> None:
            other(charger_id, action, outcome, seconds)
            self.metrics.command_ended(charger_id, action, outcome, seconds)

        return both

    def wire(self, *, central: CentralSystem, store: Store, registry: Registry, directory: Directory, clock: Clock,
             charging: SmartCharging | None) -> None:  # fmt: skip
        """Build what needs the services (after the registry and smart charging exist)."""
        doctor = Doctor(store=store, signals=central.link_signals, clock=clock, connected=registry)
        connected = lambda: [link.charger_id for link in registry.links()]  # noqa: E731
        self.sweep = DoctorSweep(doctor=doctor, events=central.events, connected=connected, clock=clock)
        self.limits = ManualLimits(applier=ProfileApplier(call=registry.call), registry=registry, clock=clock)
        central.telemetry.listen(self._offline(central, self.limits))
        self.jobs = [self.sweep.run, self.limits.run, lambda: self.metrics.run(central.events)]
        if self.settings.mqtt is not None:
            from chargewise.adapters.mqtt import MqttLink
            from chargewise.services.mqtt_bridge import BridgeDeps, MqttBridge

            bridge = MqttBridge(BridgeDeps(store=store, telemetry=central.telemetry, events=central.events,
                                           registry=registry, limits=self.limits, signals=central.link_signals,
                                           charging=charging, sweep=self.sweep, id_tag=self.settings.mqtt.id_tag),
                                self.settings.mqtt.topics)  # fmt: skip
            self.mqtt = MqttLink(self.settings.mqtt, bridge)
            self.jobs.append(self.mqtt.run)

    @staticmethod
    def _offline(central: CentralSystem, limits: ManualLimits) -> Callable[[str], None]:
        def changed(charger_id: str) -> None:
            if not central.telemetry.is_online(charger_id):
                limits.forget_link(charger_id)

        return changed

    def api(self, *, central: CentralSystem, registry: Registry, directory: Directory, token: str,
            charging: SmartCharging | None) -> tuple[TraceDeps | None, MetricsDeps]:  # fmt: skip
        """The REST parts: the trace's routes and /metrics."""
        trace = None
        if self.trace is not None:
            trace = TraceDeps(trace=self.trace, known=lambda charger_id: directory.get(charger_id) is not None)
        metrics = MetricsDeps(metrics=self.metrics, central=central, registry=registry, token_ok=admin_only(token),
                              public=self.settings.metrics_public, charging=charging, sweep=self.sweep,
                              trace=self.trace)  # fmt: skip
        return trace, metrics

    def background(self, loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[None]]:
        return [loop.create_task(job()) for job in self.jobs]


def build(settings: OpsSettings) -> Ops:
    trace = FrameTrace(per_charger=settings.trace_frames, total=settings.trace_total) if settings.trace_frames else None
    return Ops(settings=settings, metrics=Metrics(), trace=trace)
