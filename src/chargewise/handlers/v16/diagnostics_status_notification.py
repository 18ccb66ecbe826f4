"""DiagnosticsStatusNotification: the upload of the latest GetDiagnostics moves on (``services.log_uploads``)."""

from __future__ import annotations

from chargewise.handlers.context import Context, Payload


async def handle(ctx: Context, payload: Payload) -> Payload:
    if ctx.central.log_uploads is not None:
        ctx.central.log_uploads.status(ctx.charger_id, payload["status"], None)
    return {}
