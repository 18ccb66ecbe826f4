from __future__ import annotations

from chargewise.domain.model import BootInfo, OcppVersion, Registration
from chargewise.handlers.v201.boot_notification import handle
from chargewise.services.central import Policy
from tests.domain.clock import T0
from tests.handlers.station import Station, open_station

BOOT = {
    "chargingStation": {"vendorName": "Elektra", "model": "Wallbox-22", "serialNumber": "EL-0001",
                        "firmwareVersion": "4.2.1"},
    "reason": "PowerUp",
}  # fmt: skip


async def test_accepted_station_gets_the_heartbeat_interval(station: Station) -> None:
    answer = await station.send(handle, "BootNotification", BOOT)
    assert answer == {"status": "Accepted", "currentTime": "2024-05-01T12:00:00.000Z", "interval": 300}
    charger = await station.charger()
    assert charger.boot == BootInfo(vendor="Elektra", model="Wallbox-22", serial_number="EL-0001",
                                    firmware_version="4.2.1", reason="PowerUp")  # fmt: skip
    assert (charger.ocpp_version, charger.last_seen) == (OcppVersion.V201, T0)


async def test_pending_station_gets_the_retry_interval() -> None:
    policy = Policy(heartbeat_interval=900, pending_retry_interval=20)
    station = await open_station(OcppVersion.V201, registration=Registration.PENDING, policy=policy)
    answer = await station.send(handle, "BootNotification", {**BOOT, "reason": "ScheduledReset"})
    assert (answer["status"], answer["interval"]) == ("Pending", 20)
    assert (await station.charger()).boot == BootInfo(vendor="Elektra", model="Wallbox-22", serial_number="EL-0001",
                                                      firmware_version="4.2.1", reason="ScheduledReset")  # fmt: skip


async def test_rejected_station() -> None:
    station = await open_station(OcppVersion.V201, registration=Registration.REJECTED)
    answer = await station.send(handle, "BootNotification", BOOT)
    assert (answer["status"], answer["interval"]) == ("Rejected", 60)


async def test_minimal_boot(station: Station) -> None:
    payload = {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "Unknown"}
    await station.send(handle, "BootNotification", payload)
    assert (await station.charger()).boot == BootInfo(vendor="V", model="M", reason="Unknown")
