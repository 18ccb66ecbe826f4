"""Both 1.6 firmware status reports reach the campaigns, the signed one with its requestId; boots do too."""

from __future__ import annotations

from datetime import datetime

from chargewise.handlers.v16 import boot_notification, firmware_status_notification
from tests.handlers.station import Station


class Heard:
    def __init__(self) -> None:
        self.statuses: list[tuple[str, str, int | None]] = []
        self.boots: list[tuple[str, str | None]] = []

    async def firmware_status(self, charger_id: str, status: str, request_id: int | None, at: datetime) -> None:
        self.statuses.append((charger_id, status, request_id))

    async def booted(self, charger_id: str, version: str | None, reason: str | None, at: datetime) -> None:
        self.boots.append((charger_id, version))


async def test_statuses_and_boots_go_to_the_campaigns(station: Station) -> None:
    heard = station.central.firmware = Heard()
    handle = firmware_status_notification.handle
    assert await station.send(handle, "FirmwareStatusNotification", {"status": "Installing"}) == {}
    assert await station.send(handle, "SignedFirmwareStatusNotification", {"status": "InvalidSignature",
                                                                           "requestId": 9}) == {}  # fmt: skip
    assert heard.statuses == [("CP-1", "Installing", None), ("CP-1", "InvalidSignature", 9)]
    await station.send(boot_notification.handle, "BootNotification", {
        "chargePointVendor": "Acme", "chargePointModel": "AC", "firmwareVersion": "2.0"})  # fmt: skip
    assert heard.boots == [("CP-1", "2.0")]
