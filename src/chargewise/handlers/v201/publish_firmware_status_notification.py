"""PublishFirmwareStatusNotification (L03): a local controller publishing firmware to the chargers behind it.
Its latest status is recorded; answered with an empty result. Published must name where (location)."""

from __future__ import annotations

from chargewise.domain.reports import FirmwarePublication, PublicationStatus
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201.charging_schedules import member, optional_integer
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError


async def handle(ctx: Context, payload: Payload) -> Payload:
    status = member(PublicationStatus, payload["status"], "status")
    locations = tuple(payload.get("location", ()))
    if status is PublicationStatus.PUBLISHED and not locations:
        raise RemoteProtocolError(ErrorKind.OCCURRENCE_CONSTRAINT, "location: required when status is Published")
    request_id = optional_integer(payload.get("requestId"), "requestId")
    await ctx.central.reports.firmware_published(FirmwarePublication(
        charger_id=ctx.charger_id, status=status, request_id=request_id, locations=locations, reported_at=ctx.now,
    ))  # fmt: skip
    return {}
