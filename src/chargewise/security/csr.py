"""A charger's certificate signing request (RFC 2986, PEM), checked before it is signed.

Rules (OCPP 2.0.1 A02/A03, 1.6 security whitepaper "Update Charge Point certificate"):

1. The CSR parses as PEM and its self-signature verifies (whoever sent it holds the private key).
2. Its subject's commonName is the charger's own identity, exactly: a charger gets a certificate for itself
   only, never for another id (the handshake admits a client certificate by its CN).
3. Its key is RSA of at least 2048 bits or an elliptic curve of at least 256 bits (OCPP 2.0.1 A00.FR.3xx).

A refusal names which rule failed, for the charger's ``statusInfo`` and for a person reading the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256


@dataclass(frozen=True, kw_only=True, slots=True)
class CsrRefusal:
    reason_code: str  # OCPP StatusInfo reasonCode (2.0.1: up to 20 characters)
    detail: str  # one line: what is wrong and what the charger should send instead


def common_names(name: x509.Name) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)]


def check_csr(pem: str, charger_id: str) -> x509.CertificateSigningRequest | CsrRefusal:
    """The parsed CSR if ``charger_id`` may have it signed, else why not (rules 1-3)."""
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
    except (ValueError, TypeError):
        return CsrRefusal(reason_code="InvalidCSR", detail="csr is not a PEM certificate signing request (RFC 2986)")
    if not csr.is_signature_valid:
        return CsrRefusal(reason_code="InvalidCSR", detail="csr: its signature does not verify with its own key")
    names = common_names(csr.subject)
    if names != [charger_id]:
        shown = ", ".join(repr(n) for n in names) or "none"
        return CsrRefusal(reason_code="InvalidCSR",
                          detail=f"csr: subject CN is {shown}, not the charger's id {charger_id!r}")  # fmt: skip
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return CsrRefusal(reason_code="InvalidCSR", detail=f"csr: RSA key of {key.key_size} bits; use 2048 or more")
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < MIN_EC_BITS:
        return CsrRefusal(reason_code="InvalidCSR", detail=f"csr: {key.curve.name} is too small; use secp256r1 or more")
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return CsrRefusal(reason_code="InvalidCSR", detail="csr: the key must be RSA or an elliptic curve")
    return csr
