"""The CSMS CA: a root, certificates signed for the CSR's subject and key, hash data as chargers compute it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chargewise.security.authority import Authority, chain_pem, hash_data, load_chain, make_root, new_key, sign

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def authority() -> Authority:
    key = new_key()
    return Authority(certificate=make_root(key, NOW), key=key)


def request(name: str) -> tuple[x509.CertificateSigningRequest, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256()), key


def test_the_root_is_a_self_signed_ca() -> None:
    ca = authority()
    root = ca.certificate
    root.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.not_valid_before_utc <= NOW < root.not_valid_after_utc


def test_a_signed_certificate_is_a_client_certificate_for_the_csr() -> None:
    ca = authority()
    csr, key = request("CP-1")
    leaf = sign(ca, csr, NOW, days=30)
    leaf.verify_directly_issued_by(ca.certificate)
    assert leaf.subject == csr.subject and leaf.public_key() == key.public_key()
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert leaf.not_valid_after_utc == NOW + timedelta(days=30)
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    chain = load_chain(chain_pem(ca, leaf))
    assert chain == [leaf, ca.certificate]  # leaf first


def test_never_valid_past_the_root() -> None:
    ca = authority()
    leaf = sign(ca, request("CP-1")[0], NOW, days=100_000)
    assert leaf.not_valid_after_utc == ca.certificate.not_valid_after_utc


def test_hash_data_hashes_the_issuer_name_and_key_bits() -> None:
    ca = authority()
    leaf = sign(ca, request("CP-1")[0], NOW)
    data = hash_data(leaf, ca.certificate)
    assert data.issuer_name_hash == hashlib.sha256(ca.certificate.subject.public_bytes()).hexdigest()
    point = ca.key.public_key().public_bytes(*_uncompressed())
    assert data.issuer_key_hash == hashlib.sha256(point).hexdigest()  # the BIT STRING: the EC point itself
    assert data.serial_number == format(leaf.serial_number, "x")
    assert hash_data(ca.certificate).issuer_key_hash == data.issuer_key_hash  # a root is its own issuer


def _uncompressed() -> tuple[object, object]:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
