"""NotifyDisplayMessages (O04): the messages the charger shows, the answer to GetDisplayMessages, in parts
(tbc). Kept compactly (id, priority, state, period, text) as a report per requestId; answered empty."""

from __future__ import annotations

from chargewise.domain.reports import DisplayMessage, ReportKind, ReportPart
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201 import report_parts
from chargewise.handlers.v201.charging_schedules import integer, optional_moment


async def handle(ctx: Context, payload: Payload) -> Payload:
    messages = tuple(_message(info, f"messageInfo[{n}]") for n, info in enumerate(payload.get("messageInfo", ())))
    await report_parts.keep(ctx, ReportPart(
        charger_id=ctx.charger_id, kind=ReportKind.DISPLAY_MESSAGES,
        request_id=integer(payload["requestId"], "requestId"), seq_no=0, tbc=payload.get("tbc", False),
        messages=messages, reported_at=ctx.now,
    ))  # fmt: skip
    return {}


def _message(info: Payload, field: str) -> DisplayMessage:
    content = info["message"]
    return DisplayMessage(
        id=integer(info["id"], f"{field}.id"), priority=info["priority"], state=info.get("state"),
        content=content["content"], format=content["format"], language=content.get("language"),
        start=optional_moment(info.get("startDateTime"), f"{field}.startDateTime"),
        end=optional_moment(info.get("endDateTime"), f"{field}.endDateTime"),
        transaction_id=info.get("transactionId"),
    )  # fmt: skip
