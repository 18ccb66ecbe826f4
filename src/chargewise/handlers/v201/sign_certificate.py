"""SignCertificate (A02/A03): a charging station asks for a certificate for its own id. Answered from the
CSR checks; CertificateSigned follows once accepted (``services.certificates``)."""

from __future__ import annotations

from chargewise.handlers.context import Context, Payload

OFF = {"reasonCode": "NotEnabled", "additionalInfo": "this CSMS signs no certificates"}


async def handle(ctx: Context, payload: Payload) -> Payload:
    signing = ctx.central.certificates
    if signing is None:
        return {"status": "Rejected", "statusInfo": OFF}
    return signing.request(ctx.charger_id, ctx.version, payload["csr"], payload.get("certificateType"))
