"""Network fault scenarios: data files (``scenarios/<name>.json``) plus :class:`NetworkPath`, the pure state
machine of one charger's network (radio, DNS, TLS, middleboxes) that the driver consults. Time is passed in;
every random draw comes from the charger's own seeded RNG, on a fixed simulated-time grid, so the same seed
gives the same faults.

What each event in a scenario's timeline does (``at`` is seconds of simulated time after the charger starts):

==================  ========================================================================================
event               effect
==================  ========================================================================================
roam                sticky client: re-associates with ``ap`` and keeps it (even across drops) until reboot
router-change       router switched to ``security`` (e.g. ``wpa2-wpa3-transition``): a radio that cannot
                    handle it loses the link and never associates again (until ``router-change`` ``wpa2``)
dns                 ``dns``: ``sinkhole`` (the backend name resolves to 0.0.0.0) or ``ok``
ip-change           the WAN address changes behind a stateful firewall: every open flow becomes half-open
                    (the charger believes it is connected; nothing reaches either side). New flows work,
                    and come from the new address (``wan`` counts the changes; on loopback the driver
                    connects from 127.0.0.(1 + wan), so a server sees the address change too).
tls                 TLS handshakes fail with ``error`` (``untrusted``, ``expired``) or succeed (null)
fault / fault-clear a connector fault (``error_code``, e.g. GroundFailure): Faulted, then back
==================  ========================================================================================

TLS scenarios assume the charger connects with wss (security profile 2); on a ws:// URL the handshake
failure is simulated before the WebSocket opens, exactly where a real handshake would fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import msgspec

from chargewise.simulator import rf
from chargewise.simulator.rng import Rng
from chargewise.simulator.templates import Radio

TLS_ERRORS = {
    "untrusted": "certificate verify failed: unable to get local issuer certificate",
    "expired": "certificate verify failed: certificate has expired",
}


class AccessPoint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    bssid: str
    distance_m: float
    walls: tuple[str, ...] = ()
    eirp_dbm: float = 20.0
    band_ghz: float = 2.4
    above_roofline: bool = False  # ceiling-mounted: a car costs 5 dB instead of 9 (TR 37.885)
    car_in_path: bool = False  # a car parked at the charger stands between it and this AP


class Step(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    at: float
    event: str
    ap: int | None = None
    security: str | None = None
    dns: str | None = None
    error: str | None = None
    connector: int = 1
    error_code: str = "GroundFailure"


class Scenario(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named fault: its cause (physics or network) and what a CSMS observes, as data."""

    name: str
    summary: str
    cause: str
    observed: str
    aps: tuple[AccessPoint, ...] = (AccessPoint(bssid="02:00:00:00:00:01", distance_m=6, walls=("stud-wall",)),)
    fading_sigma_db: float = 1.5
    rf_step_s: float = 5.0
    dns: str = "ok"
    tls: str | None = None
    router_security: str = "wpa2"
    nat_idle_timeout_s: float | None = None
    tcp_give_up_s: float = 900.0  # unacknowledged data on a dead flow: Linux tcp_retries2=15 gives ~924 s
    quirks: dict[str, Any] = {}  # overrides of the template's quirks (e.g. reconnects_after_close)
    timeline: tuple[Step, ...] = ()


class ScenarioError(ValueError):
    """A scenario name or file is wrong; the message lists the valid names."""


def scenario_names() -> list[str]:
    folder = resources.files("chargewise.simulator") / "scenarios"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


@cache
def load_scenario(name: str) -> Scenario:
    """The shipped scenario ``name``; raise :class:`ScenarioError` naming the valid ones."""
    if name not in scenario_names():
        raise ScenarioError(f"unknown scenario {name!r}; choose one of {', '.join(scenario_names())}")
    data = (resources.files("chargewise.simulator") / "scenarios" / f"{name}.json").read_bytes()
    try:
        return msgspec.json.decode(data, type=Scenario)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"scenario {name}: {exc}") from None


# ---------------------------------------------------------------- what the path tells the driver
@dataclass(frozen=True, kw_only=True, slots=True)
class LinkLost:
    """The radio lost its association: abort the connection (no close frame), then reconnect."""

    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowsBlackholed:
    """Open flows are dead but nobody was told (half-open): stop delivering in both directions."""

    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectorFault:
    connector: int
    error_code: str | None  # None: cleared


PathEvent = LinkLost | FlowsBlackholed | ConnectorFault


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectFailure:
    """Why a connection attempt failed before the WebSocket opened. ``stage``: association, dns or tls."""

    stage: str
    detail: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RadioSample:
    rssi_dbm: int
    bssid: str


class NetworkPath:
    """One charger's network. Call :meth:`advance` at :meth:`next_wakeup` (and when a car arrives or leaves)
    and act on the events; ask :meth:`attempt` before each connection; read :meth:`sample` for reports."""

    __slots__ = (
        "_car",
        "_car_loss",
        "_car_rng",
        "_fading",
        "_latency_rng",
        "_next_rf",
        "_next_step",
        "_rf_rng",
        "_sample_rng",
        "_start",
        "_steps",
        "ap_index",
        "dns_ok",
        "dynamic",
        "radio",
        "router_security",
        "scenario",
        "tls_error",
        "wan",
    )

    def __init__(self, scenario: Scenario, *, radio: Radio, seed: str, start: float) -> None:
        self.scenario = scenario
        self.radio = radio
        # one stream per kind of draw, so how often one is used never shifts another
        self._rf_rng = Rng(f"{seed}/rf")
        self._car_rng = Rng(f"{seed}/car")
        self._sample_rng = Rng(f"{seed}/sample")
        self._latency_rng = Rng(f"{seed}/latency")
        self._steps = sorted(scenario.timeline, key=lambda s: s.at)
        self._next_step = 0
        self._start = start
        self.dns_ok = scenario.dns == "ok"
        self.tls_error = scenario.tls
        self.router_security = scenario.router_security
        self.wan = 0  # WAN address changes so far
        self._car = False
        self._car_loss = 0.0
        self._fading = 0.0
        self.ap_index = self._select_ap()
        self.dynamic = self._worst_case() < -70.0
        self._next_rf = start + scenario.rf_step_s if self.dynamic else None

    def rebase(self, start: float) -> None:
        """Start the timeline at ``start`` (the charger's power-on) instead of the time given at build."""
        shift = start - self._start
        self._start = start
        if self._next_rf is not None:
            self._next_rf += shift

    # ------------------------------------------------------------ physics
    def _mean_rssi(self, index: int) -> float:
        ap = self.scenario.aps[index]
        loss = rf.path_loss_db(ap.distance_m, ap.walls, ap.band_ghz) + self.radio.enclosure_loss_db
        car = self._car_loss if (self._car and ap.car_in_path) else 0.0
        return ap.eirp_dbm - loss - car

    def _worst_case(self) -> float:
        car = rf.CAR_LOSS_DB["below-roofline"]
        worst = [self._mean_rssi(i) - (car[0] + 2 * car[1] if ap.car_in_path else 0.0)
                 for i, ap in enumerate(self.scenario.aps)]  # fmt: skip
        return min(worst)

    def _select_ap(self) -> int:
        if self.radio.ap_selection == "strongest":
            return max(range(len(self.scenario.aps)), key=self._mean_rssi)
        return 0  # first found in scan order (ESP32 WIFI_FAST_SCAN)

    def rssi(self) -> float:
        """The RSSI now (mean path budget plus the current fading draw)."""
        return self._mean_rssi(self.ap_index) + self._fading

    def associated(self) -> bool:
        """The radio can hold an association now (security mode understood, signal above the floor)."""
        if self.router_security != "wpa2" and not self.radio.wpa3_transition_ok:
            return False
        return rf.can_associate(self.rssi())

    # ------------------------------------------------------------ time
    def next_wakeup(self) -> float | None:
        """When :meth:`advance` must next run (None: nothing scheduled)."""
        times = [t for t in (self._next_rf, self._step_time()) if t is not None]
        return min(times) if times else None

    def _step_time(self) -> float | None:
        return self._start + self._steps[self._next_step].at if self._next_step < len(self._steps) else None

    def advance(self, now: float, *, car_present: bool) -> list[PathEvent]:
        """Apply timeline steps and RF grid steps due by ``now``; return what the driver must act on."""
        self._set_car(car_present)
        events: list[PathEvent] = []
        while (due := self._step_time()) is not None and due <= now:
            step = self._steps[self._next_step]
            self._next_step += 1
            events.extend(self._apply(step))
        while self._next_rf is not None and self._next_rf <= now:
            self._next_rf += self.scenario.rf_step_s
            self._fading = self._rf_rng.gauss(0.0, self.scenario.fading_sigma_db)
            rssi = self.rssi()
            if self._rf_rng.random() < rf.drop_probability(rssi, self.scenario.rf_step_s):
                events.append(LinkLost(reason=f"association lost at {rssi:.0f} dBm"))
        return events

    def _set_car(self, present: bool) -> None:
        if present and not self._car:
            ap = self.scenario.aps[self.ap_index]
            self._car_loss = rf.car_loss_db(self._car_rng, ap_above_roofline=ap.above_roofline)
        self._car = present

    def _apply(self, step: Step) -> list[PathEvent]:
        if step.event == "roam" and step.ap is not None:
            self.ap_index = step.ap
        elif step.event == "router-change":
            self.router_security = step.security or "wpa2"
            if not self.associated():
                return [LinkLost(reason=f"router switched to {self.router_security}; association fails")]
        elif step.event == "dns":
            self.dns_ok = step.dns != "sinkhole"
        elif step.event == "ip-change":
            self.wan += 1
            return [FlowsBlackholed(reason="WAN address changed behind a stateful firewall")]
        elif step.event == "tls":
            self.tls_error = step.error
        elif step.event in ("fault", "fault-clear"):
            code = step.error_code if step.event == "fault" else None
            return [ConnectorFault(connector=step.connector, error_code=code)]
        else:
            raise ScenarioError(f"{self.scenario.name}: unknown timeline event {step.event!r}")
        return []

    # ------------------------------------------------------------ what the charger experiences
    def attempt(self) -> ConnectFailure | None:
        """Outcome of a connection attempt up to the TLS handshake (None: go ahead and connect)."""
        if self.router_security != "wpa2" and not self.radio.wpa3_transition_ok:
            return ConnectFailure(stage="association", detail=f"{self.router_security} handshake times out")
        if not rf.can_associate(self.rssi()):
            return ConnectFailure(stage="association", detail=f"no usable beacon ({self.rssi():.0f} dBm)")
        if not self.dns_ok:
            return ConnectFailure(stage="dns", detail="backend name resolves to 0.0.0.0 (DNS sinkhole)")
        if self.tls_error is not None:
            return ConnectFailure(stage="tls", detail=TLS_ERRORS.get(self.tls_error, self.tls_error))
        return None

    def sample(self, *, car_present: bool) -> RadioSample:
        """The RSSI and BSSID the charger's radio reports now."""
        self._set_car(car_present)
        if not self.dynamic:
            self._fading = self._sample_rng.gauss(0.0, self.scenario.fading_sigma_db)
        return RadioSample(rssi_dbm=round(self.rssi()), bssid=self.scenario.aps[self.ap_index].bssid)

    def latency_s(self) -> float:
        """One-way delay for the next frame (0 on a healthy link, so nothing is delayed)."""
        return rf.latency_s(self.rssi(), self._latency_rng) if self.dynamic else 0.0

    def reboot(self) -> None:
        """The charger rebooted: its radio scans again (a sticky client lets go of the far AP)."""
        self.ap_index = self._select_ap()
