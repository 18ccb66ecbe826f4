"""What the OCPP handlers tell the firmware campaigns: a charger's firmware status and its boots.

``CentralSystem.firmware`` holds one; without campaigns (a bare ``CentralSystem`` in tests) it is
:class:`NoCampaigns`, and ``bootstrap`` puts the campaign service there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class FirmwareEvents(Protocol):
    async def firmware_status(self, charger_id: str, status: str, request_id: int | None, at: datetime) -> None:
        """A FirmwareStatusNotification (either version) or 1.6 SignedFirmwareStatusNotification; returns once
        what it changed is stored."""
        ...

    async def booted(self, charger_id: str, version: str | None, reason: str | None, at: datetime) -> None:
        """A BootNotification, with the firmware version and (2.0.1) the boot reason it reported."""
        ...


class NoCampaigns:
    async def firmware_status(self, charger_id: str, status: str, request_id: int | None, at: datetime) -> None:
        return None

    async def booted(self, charger_id: str, version: str | None, reason: str | None, at: datetime) -> None:
        return None
