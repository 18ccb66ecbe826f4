"""What the 2.0.1 handlers record for the connectivity doctor (``LinkSignals``), and the radio watch after boot."""

from __future__ import annotations

import asyncio
from typing import Any

from chargewise.doctor.signals import BootSample
from chargewise.handlers.v201 import boot_notification, notify_event, security_event_notification
from chargewise.services.connections import CallOutcome
from tests.domain.clock import T0
from tests.handlers.station import Station

AT = "2024-05-01T12:00:00Z"
BOOT = {"chargingStation": {"vendorName": "Elektra", "model": "Wallbox-22", "firmwareVersion": "4.2.1"},
        "reason": "RemoteReset"}  # fmt: skip


def event(value: str, component: str = "DataLink", variable: str = "SignalStrength") -> dict[str, Any]:
    return {"eventId": 1, "timestamp": AT, "trigger": "Delta", "actualValue": value, "component": {"name": component},
            "variable": {"name": variable}, "eventNotificationType": "CustomMonitor"}  # fmt: skip


async def test_an_accepted_boot_reads_and_watches_the_signal_strength(station: Station) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    async def send(charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome:
        sent.append((action, payload))
        result = {"attributeStatus": "Accepted", "attributeValue": "-68", "component": {"name": "DataLink"},
                  "variable": {"name": "SignalStrength"}}  # fmt: skip
        answer = {"getVariableResult": [result]} if action == "GetVariables" else {"setMonitoringResult": []}
        return CallOutcome(action=action, payload=answer)

    station.central.link_signals.send = send
    answer = await station.send(boot_notification.handle, "BootNotification", BOOT)
    assert answer["status"] == "Accepted"
    await asyncio.sleep(0.01)  # the watch runs after the answer
    assert [action for action, _ in sent] == ["GetVariables", "SetVariableMonitoring"]
    monitor = sent[1][1]["setMonitoringData"][0]
    assert (monitor["type"], monitor["component"], monitor["variable"]) == (
        "Delta", {"name": "DataLink"}, {"name": "SignalStrength"})  # fmt: skip
    signals = await station.signals()
    assert signals.boots == (BootSample(at=T0, reason="RemoteReset", firmware="4.2.1"),)
    assert [(r.rssi_dbm, r.source) for r in signals.radio] == [(-68.0, "GetVariables SignalStrength")]


async def test_signal_strength_events_are_radio_samples_and_others_are_not(station: Station) -> None:
    payload = {"generatedAt": AT, "seqNo": 0, "eventData": [event("-74"), event("true", "EVSE", "Problem"),
                                                            event("n/a")]}  # fmt: skip
    assert await station.send(notify_event.handle, "NotifyEvent", payload) == {}
    assert [(r.rssi_dbm, r.source) for r in (await station.signals()).radio] == [
        (-74.0, "NotifyEvent SignalStrength Delta")
    ]


async def test_security_events_are_recorded(station: Station) -> None:
    payload = {"type": "InvalidCsmsCertificate", "timestamp": AT, "techInfo": "certificate has expired"}
    assert await station.send(security_event_notification.handle, "SecurityEventNotification", payload) == {}
    assert [(e.type, e.tech_info) for e in (await station.signals()).security_events] == [
        ("InvalidCsmsCertificate", "certificate has expired")]  # fmt: skip
