"""ReservationStatusUpdate (H04): a reservation expired or was removed before use. Its status is recorded per
reservation id; answered with an empty result."""

from __future__ import annotations

from chargewise.domain.reports import ReservationEnd, ReservationUpdate
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201.charging_schedules import integer, member


async def handle(ctx: Context, payload: Payload) -> Payload:
    if ctx.central.reservations is not None:  # the reservation no longer holds (``services.reservations``)
        await ctx.central.reservations.ended(ctx.charger_id, integer(payload["reservationId"], "reservationId"),
                                             payload["reservationUpdateStatus"])  # fmt: skip
    await ctx.central.reports.reservation_ended(ReservationUpdate(
        charger_id=ctx.charger_id, reservation_id=integer(payload["reservationId"], "reservationId"),
        status=member(ReservationEnd, payload["reservationUpdateStatus"], "reservationUpdateStatus"),
        reported_at=ctx.now,
    ))  # fmt: skip
    return {}
