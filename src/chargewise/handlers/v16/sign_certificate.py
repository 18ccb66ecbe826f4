"""SignCertificate (security whitepaper): a charger asks for a certificate for its own id. Answered from the
CSR checks; CertificateSigned follows once accepted (``services.certificates``)."""

from __future__ import annotations

from chargewise.handlers.context import Context, Payload


async def handle(ctx: Context, payload: Payload) -> Payload:
    signing = ctx.central.certificates
    if signing is None:
        return {"status": "Rejected"}
    return signing.request(ctx.charger_id, ctx.version, payload["csr"], None)
