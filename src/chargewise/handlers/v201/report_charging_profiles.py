"""ReportChargingProfiles (K09): the charger's answer to GetChargingProfiles, one EVSE and limit source per
message, several messages per request (tbc). Kept as a report per requestId, which the smart-charging engine
reads to verify what is installed; answered with an empty result."""

from __future__ import annotations

from chargewise.domain.reports import LimitSource, ReportedProfile, ReportKind, ReportPart
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201 import report_parts
from chargewise.handlers.v201.charging_schedules import evse, integer, member, profile


async def handle(ctx: Context, payload: Payload) -> Payload:
    evse_id = evse(payload["evseId"], minimum=0)
    source = member(LimitSource, payload["chargingLimitSource"], "chargingLimitSource")
    profiles = tuple(
        ReportedProfile(evse_id=evse_id, source=source, profile=profile(raw, f"chargingProfile[{n}]"))
        for n, raw in enumerate(payload["chargingProfile"])
    )
    await report_parts.keep(ctx, ReportPart(
        charger_id=ctx.charger_id, kind=ReportKind.CHARGING_PROFILES,
        request_id=integer(payload["requestId"], "requestId"), seq_no=0, tbc=payload.get("tbc", False),
        profiles=profiles, reported_at=ctx.now,
    ))  # fmt: skip
    return {}
