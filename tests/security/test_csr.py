"""CSR checks: only a charger's own id, a valid self-signature, a key of sufficient size."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from chargewise.security.csr import CsrRefusal, check_csr


def csr(*names: str, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, n) for n in names]
                        + [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme")])  # fmt: skip
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256()) \
        .public_bytes(serialization.Encoding.PEM).decode()  # fmt: skip


def test_the_chargers_own_csr_passes() -> None:
    checked = check_csr(csr("CP-1"), "CP-1")
    assert isinstance(checked, x509.CertificateSigningRequest)


@pytest.mark.parametrize(
    ("names", "detail"),
    [(("OTHER",), "CN is 'OTHER', not the charger's id 'CP-1'"), ((), "CN is none"),
     (("CP-1", "OTHER"), "'CP-1', 'OTHER'"), (("cp-1",), "'cp-1'")],
)  # fmt: skip
def test_a_csr_for_another_id_is_refused(names: tuple[str, ...], detail: str) -> None:
    refused = check_csr(csr(*names), "CP-1")
    assert isinstance(refused, CsrRefusal) and refused.reason_code == "InvalidCSR" and detail in refused.detail


def test_garbage_and_a_broken_signature_are_refused() -> None:
    assert "not a PEM" in check_csr("hello", "CP-1").detail  # type: ignore[union-attr]
    good = x509.load_pem_x509_csr(csr("CP-1").encode())
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature
    forged = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    refused = check_csr(forged, "CP-1")
    assert isinstance(refused, CsrRefusal) and "signature" in refused.detail


def test_a_small_rsa_key_is_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    refused = check_csr(csr("CP-1", key=small), "CP-1")
    assert isinstance(refused, CsrRefusal) and "1024 bits" in refused.detail
    big = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert isinstance(check_csr(csr("CP-1", key=big), "CP-1"), x509.CertificateSigningRequest)
