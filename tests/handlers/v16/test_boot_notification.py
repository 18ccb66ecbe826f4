from __future__ import annotations

from chargewise.domain.model import BootInfo, OcppVersion, Registration
from chargewise.handlers.v16.boot_notification import handle
from chargewise.services.central import Policy
from tests.domain.clock import T0
from tests.handlers.station import Station, open_station

BOOT = {"chargePointVendor": "Elektra", "chargePointModel": "Wallbox-22", "chargePointSerialNumber": "EL-0001",
        "chargeBoxSerialNumber": "BOX-9", "firmwareVersion": "4.2.1"}  # fmt: skip


async def test_accepted_charger_gets_the_heartbeat_interval(station: Station) -> None:
    answer = await station.send(handle, "BootNotification", BOOT)

    assert answer == {"status": "Accepted", "currentTime": "2024-05-01T12:00:00.000Z", "interval": 300}
    charger = await station.charger()
    assert charger.boot == BootInfo(vendor="Elektra", model="Wallbox-22", serial_number="EL-0001",
                                    firmware_version="4.2.1")  # fmt: skip
    assert (charger.ocpp_version, charger.last_seen) == (OcppVersion.V16, T0)


async def test_pending_charger_gets_the_retry_interval() -> None:
    policy = Policy(heartbeat_interval=900, pending_retry_interval=45)
    station = await open_station(OcppVersion.V16, registration=Registration.PENDING, policy=policy)
    answer = await station.send(handle, "BootNotification", BOOT)
    assert (answer["status"], answer["interval"]) == ("Pending", 45)
    assert (await station.charger()).boot is not None  # a pending charger's boot is recorded all the same


async def test_rejected_charger_is_rejected_with_the_retry_interval() -> None:
    station = await open_station(OcppVersion.V16, registration=Registration.REJECTED)
    answer = await station.send(handle, "BootNotification", BOOT)
    assert (answer["status"], answer["interval"]) == ("Rejected", 60)


async def test_approval_turns_the_next_boot_accepted() -> None:
    station = await open_station(OcppVersion.V16, registration=Registration.PENDING)
    assert (await station.send(handle, "BootNotification", BOOT))["status"] == "Pending"
    await station.store.set_registration(station.charger_id, Registration.ACCEPTED)
    assert (await station.send(handle, "BootNotification", BOOT))["interval"] == 300


async def test_box_serial_when_no_charge_point_serial(station: Station) -> None:
    await station.send(handle, "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M",
                                                    "chargeBoxSerialNumber": "BOX-9"})  # fmt: skip
    assert (await station.charger()).boot == BootInfo(vendor="V", model="M", serial_number="BOX-9")


async def test_minimal_boot(station: Station) -> None:
    station.clock.advance(1.5)
    answer = await station.send(handle, "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    assert answer["currentTime"] == "2024-05-01T12:00:01.500Z"
    assert (await station.charger()).boot == BootInfo(vendor="V", model="M")
