"""NotifyMonitoringReport (N02): the charger's variable monitors, the answer to GetMonitoringReport, in parts
(seqNo, tbc). Kept as a report per requestId for the connectivity doctor; answered with an empty result."""

from __future__ import annotations

from chargewise.domain.reports import Monitor, ReportKind, ReportPart
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201 import report_parts
from chargewise.handlers.v201.charging_schedules import MAX_QUANTITY, integer, moment, optional_integer, quantity


async def handle(ctx: Context, payload: Payload) -> Payload:
    monitors = tuple(
        _monitor(data, setting, f"monitor[{n}].variableMonitoring[{m}]")
        for n, data in enumerate(payload.get("monitor", ()))
        for m, setting in enumerate(data["variableMonitoring"])
    )
    await report_parts.keep(ctx, ReportPart(
        charger_id=ctx.charger_id, kind=ReportKind.MONITORING, request_id=integer(payload["requestId"], "requestId"),
        seq_no=integer(payload["seqNo"], "seqNo"), tbc=payload.get("tbc", False),
        generated_at=moment(payload["generatedAt"], "generatedAt"), monitors=monitors, reported_at=ctx.now,
    ))  # fmt: skip
    return {}


def _monitor(data: Payload, setting: Payload, field: str) -> Monitor:
    component, variable = data["component"], data["variable"]
    evse = component.get("evse")
    return Monitor(
        component=component["name"], component_instance=component.get("instance"),
        evse_id=None if evse is None else optional_integer(evse["id"], f"{field}.component.evse.id"),
        variable=variable["name"], variable_instance=variable.get("instance"),
        id=integer(setting["id"], f"{field}.id"), type=setting["type"],
        value=quantity(setting["value"], f"{field}.value", minimum=-MAX_QUANTITY),
        severity=integer(setting["severity"], f"{field}.severity", maximum=9), transaction=setting["transaction"],
    )  # fmt: skip
