"""What the 1.6 handlers record for the connectivity doctor (``LinkSignals``), and how they answer."""

from __future__ import annotations

from chargewise.doctor.signals import BootSample, RadioSample, SecurityEventSample, StatusSample
from chargewise.handlers.v16 import boot_notification, data_transfer, heartbeat, security_event_notification
from chargewise.handlers.v16 import status_notification as status
from tests.domain.clock import T0
from tests.handlers.station import Station

BOOT = {"chargePointVendor": "Elektra", "chargePointModel": "Wallbox-22", "firmwareVersion": "4.2.1"}
RSSI = {"vendorId": "com.chargewise.net", "messageId": "Rssi", "data": '{"rssi":-71,"bssid":"02:00:00:00:00:01"}'}


async def test_the_boot_reason_comes_from_the_security_event_that_follows_the_boot(station: Station) -> None:
    await station.send(boot_notification.handle, "BootNotification", BOOT)
    at = station.clock.advance(2)
    event = {"type": "StartupOfTheDevice", "timestamp": "2024-05-01T12:00:02Z", "techInfo": "boot reason PowerUp"}
    assert await station.send(security_event_notification.handle, "SecurityEventNotification", event) == {}
    signals = await station.signals()
    assert signals.boots == (BootSample(at=T0, reason="PowerUp", firmware="4.2.1"),)
    assert signals.security_events == (SecurityEventSample(at=at, type="StartupOfTheDevice",
                                                           tech_info="boot reason PowerUp"),)  # fmt: skip
    assert signals.heartbeat_interval_s == 300


async def test_the_vendor_rssi_report_is_accepted_and_recorded(station: Station) -> None:
    assert await station.send(data_transfer.handle, "DataTransfer", RSSI) == {"status": "Accepted"}
    other = {"vendorId": "com.chargewise.net", "messageId": "Temperature", "data": "{}"}
    assert await station.send(data_transfer.handle, "DataTransfer", other) == {"status": "UnknownMessageId"}
    assert (await station.signals()).radio == (
        RadioSample(at=T0, rssi_dbm=-71.0, bssid="02:00:00:00:00:01", source="DataTransfer com.chargewise.net/Rssi"),
    )


async def test_weak_signal_is_a_status_and_its_rssi_a_radio_sample(station: Station) -> None:
    payload = {"connectorId": 0, "errorCode": "WeakSignal", "status": "Available", "info": "RSSI -77 dBm"}
    assert await station.send(status.handle, "StatusNotification", payload) == {}
    signals = await station.signals()
    assert signals.statuses == (StatusSample(at=T0, evse_id=0, connector_id=0, status="Available",
                                             error_code="WeakSignal", info="RSSI -77 dBm"),)  # fmt: skip
    assert [(r.rssi_dbm, r.source) for r in signals.radio] == [(-77.0, "StatusNotification WeakSignal")]


async def test_heartbeats_are_timed(station: Station) -> None:
    await station.send(heartbeat.handle, "Heartbeat", {})
    later = station.clock.advance(300)
    await station.send(heartbeat.handle, "Heartbeat", {})
    assert (await station.signals()).heartbeats == (T0, later)
