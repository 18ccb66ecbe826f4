"""Network fault scenarios as data and the NetworkPath state machine (pure; time passed in)."""

from __future__ import annotations

import msgspec
import pytest

from chargewise.simulator.faults import (
    ConnectorFault,
    FlowsBlackholed,
    LinkLost,
    NetworkPath,
    Scenario,
    ScenarioError,
    Step,
    load_scenario,
    scenario_names,
)
from chargewise.simulator.templates import load_template

ESP32 = load_template("esp32-generic").radio
T0 = 1_000.0
REQUIRED = {
    "healthy", "weak-rssi", "car-in-path", "sticky-mesh", "wpa3-transition", "dns-sinkhole", "ip-change-spi",
    "nat-idle-timeout", "tls-untrusted", "tls-expired", "no-reconnect",
}  # fmt: skip


def path(name: str | Scenario, seed: str = "s") -> NetworkPath:
    scenario = load_scenario(name) if isinstance(name, str) else name
    return NetworkPath(scenario, radio=ESP32, seed=seed, start=T0)


def test_every_named_scenario_ships_and_explains_itself() -> None:
    assert set(scenario_names()) >= REQUIRED
    for name in scenario_names():
        s = load_scenario(name)
        assert s.name == name and s.cause and s.observed
        path(s).advance(T0 + 3600, car_present=True)  # every timeline event is known


def test_unknown_scenario_names_the_valid_ones() -> None:
    with pytest.raises(ScenarioError, match=r"choose one of .*healthy"):
        load_scenario("solar-flare")


def test_healthy_path_is_static_and_strong() -> None:
    p = path("healthy")
    assert not p.dynamic and p.next_wakeup() is None and p.attempt() is None
    assert -47 <= p.sample(car_present=False).rssi_dbm <= -39 and p.latency_s() == 0


def test_sticky_mesh_rssi_degrades_after_the_roam_and_stays_until_reboot() -> None:
    p = path("sticky-mesh")
    before = p.sample(car_present=False)
    p.advance(T0 + 301, car_present=False)
    after = [p.sample(car_present=False) for _ in range(5)]
    p.advance(T0 + 5000, car_present=False)  # hours later: still stuck
    still = p.sample(car_present=False)
    p.reboot()
    rebooted = p.sample(car_present=False)
    assert before.rssi_dbm > -45 and before.bssid.endswith("0a")
    assert all(s.rssi_dbm < -74 and s.bssid.endswith("0b") for s in [*after, still])
    assert rebooted.rssi_dbm > -45 and rebooted.bssid.endswith("0a")


def test_car_in_path_steps_rssi_down_while_parked() -> None:
    p = path("car-in-path")
    empty = p.rssi()
    p.advance(T0 + 5, car_present=True)
    parked = p.rssi()
    p.advance(T0 + 10, car_present=False)
    assert empty - parked > 3 and abs(p.rssi() - empty) < 6


def test_weak_rssi_drops_the_association_now_and_then_deterministically() -> None:
    def drops(seed: str) -> list[float]:
        p, times = path("weak-rssi", seed), []
        for t in range(5, 24 * 3600, 5):
            if any(isinstance(e, LinkLost) for e in p.advance(T0 + t, car_present=False)):
                times.append(t)
        return times

    first = drops("a")
    assert 10 < len(first) < 300  # about -76 dBm: a drop every few minutes to an hour
    assert first == drops("a") and first != drops("b")


def test_dns_sinkhole_fails_every_attempt() -> None:
    failure = path("dns-sinkhole").attempt()
    assert failure is not None and failure.stage == "dns" and "0.0.0.0" in failure.detail


def test_wpa3_transition_drops_the_link_and_never_associates_again() -> None:
    p = path("wpa3-transition")
    assert p.attempt() is None
    events = p.advance(T0 + 601, car_present=False)
    assert [type(e) for e in events] == [LinkLost]
    failure = p.attempt()
    assert failure is not None and failure.stage == "association"
    p.reboot()
    assert p.attempt() is not None


def test_ip_change_makes_open_flows_half_open_once() -> None:
    p = path("ip-change-spi")
    assert p.advance(T0 + 299, car_present=False) == []
    assert [type(e) for e in p.advance(T0 + 300, car_present=False)] == [FlowsBlackholed]
    assert p.advance(T0 + 900, car_present=False) == [] and p.attempt() is None


@pytest.mark.parametrize(("name", "words"), [("tls-untrusted", "local issuer"), ("tls-expired", "has expired")])
def test_tls_fails_until_the_server_is_fixed(name: str, words: str) -> None:
    p = path(name)
    failure = p.attempt()
    assert failure is not None and failure.stage == "tls" and words in failure.detail
    p.advance(T0 + 600, car_present=False)
    assert p.attempt() is None


def test_connector_faults_come_from_the_timeline() -> None:
    p = path("ground-fault")
    assert p.advance(T0 + 300, car_present=True) == [ConnectorFault(connector=1, error_code="GroundFailure")]
    assert p.advance(T0 + 900, car_present=True) == [ConnectorFault(connector=1, error_code=None)]


def test_scripted_timelines_compose() -> None:
    scenario = msgspec.structs.replace(
        load_scenario("healthy"),
        timeline=(Step(at=10, event="dns", dns="sinkhole"), Step(at=20, event="dns", dns="ok")),
    )
    p = path(scenario)
    p.advance(T0 + 10, car_present=False)
    assert p.attempt() is not None
    p.advance(T0 + 20, car_present=False)
    assert p.attempt() is None
