"""Security events held until the charger is Accepted: order kept, TLS failures folded into one."""

from __future__ import annotations

from chargewise.simulator.clock import iso
from chargewise.simulator.security import SecurityEvent, SecurityEvents

T0 = 1_700_000_000.0


def test_events_wait_in_order_and_drain_once() -> None:
    events = SecurityEvents()
    events.add("StartupOfTheDevice", "boot reason PowerUp", T0)
    events.add("FirmwareUpdated", "installed 1.1", T0 + 5)
    assert [e.kind for e in events.drain()] == ["StartupOfTheDevice", "FirmwareUpdated"]
    assert events.drain() == []


def test_failed_tls_handshakes_become_one_invalid_certificate_event_after_the_others() -> None:
    events = SecurityEvents()
    for i in range(3):
        events.tls_failed(T0 + 30 * i, "certificate has expired")
    events.add("ResetOrReboot", "boot reason RemoteReset", T0 + 100)
    assert events.drain() == [
        SecurityEvent(kind="ResetOrReboot", info="boot reason RemoteReset", at=T0 + 100),
        SecurityEvent(
            kind="InvalidCsmsCertificate",
            info=f"certificate has expired (3 failed TLS handshakes since {iso(T0)})",
            at=T0 + 60,  # stamped with the latest failure
        ),
    ]
    assert events.drain() == []  # the count starts again after a report
