"""Keeping one message of a 2.0.1 multi-part report (the four report handlers share it)."""

from __future__ import annotations

from chargewise.domain.reports import ReportPart
from chargewise.handlers.context import Context
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError


async def keep(ctx: Context, part: ReportPart) -> None:
    """Store the part (``Reports.report_part``); one that its report cannot hold is the charger's fault."""
    if not await ctx.central.reports.report_part(part):
        quota = ctx.central.reports.quota
        raise RemoteProtocolError(
            ErrorKind.GENERIC, f"report {part.request_id} exceeds the {quota:,} characters kept per report; not kept"
        )
