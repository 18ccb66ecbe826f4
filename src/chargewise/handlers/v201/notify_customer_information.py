"""NotifyCustomerInformation (N09): what the charger holds about a customer, the answer to the operator's
CustomerInformation request, in parts (seqNo, tbc). It is personal data the operator asked for: kept as a
report per requestId for the operator to read (and nowhere else: not logged); answered with an empty result."""

from __future__ import annotations

from chargewise.domain.reports import ReportKind, ReportPart
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201 import report_parts
from chargewise.handlers.v201.charging_schedules import integer, moment


async def handle(ctx: Context, payload: Payload) -> Payload:
    await report_parts.keep(ctx, ReportPart(
        charger_id=ctx.charger_id, kind=ReportKind.CUSTOMER_INFORMATION,
        request_id=integer(payload["requestId"], "requestId"), seq_no=integer(payload["seqNo"], "seqNo"),
        tbc=payload.get("tbc", False), generated_at=moment(payload["generatedAt"], "generatedAt"),
        data=payload["data"], reported_at=ctx.now,
    ))  # fmt: skip
    return {}
