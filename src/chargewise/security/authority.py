"""The CSMS's certificate authority: a root made once, and charger certificates signed from checked CSRs.

Pure: keys, certificates and ``now`` come in, certificates go out (``adapters/ca_files.py`` keeps them in the
data directory). The root is an ECDSA P-256 key (OCPP 2.0.1 A00: secp256r1 with SHA-256 is what every
charger must support); a charger certificate is a TLS client certificate for exactly the CN its CSR was checked
for (``security.csr``), valid for ``days``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_DAYS = 3650
CHARGER_DAYS = 365
CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey  # ours is EC; an operator's may be RSA


@dataclass(frozen=True, kw_only=True, slots=True)
class Authority:
    """A root certificate and its key; sign with :func:`sign`."""

    certificate: x509.Certificate
    key: CaKey

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_root(key: CaKey, now: datetime, name: str = "chargewise CSMS root CA") -> x509.Certificate:
    """A self-signed root for ``key``, valid from an hour before ``now`` (clock skew) for :data:`ROOT_DAYS`."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargewise")])  # fmt: skip
    public = key.public_key()
    return (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=ROOT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip


def sign(authority: Authority, csr: x509.CertificateSigningRequest, now: datetime,
         days: int = CHARGER_DAYS) -> x509.Certificate:  # fmt: skip
    """A client certificate for ``csr``'s subject and key (check it with ``security.csr.check_csr`` first),
    never valid past the root."""
    root = authority.certificate
    until = min(now + timedelta(days=days), root.not_valid_after_utc)
    return (
        x509.CertificateBuilder().subject_name(csr.subject).issuer_name(root.subject).public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
                       critical=False)
        .sign(authority.key, hashes.SHA256())
    )  # fmt: skip


def chain_pem(authority: Authority, leaf: x509.Certificate) -> str:
    """What CertificateSigned carries: the leaf first, then the root (OCPP: leaf first, up the chain)."""
    return leaf.public_bytes(serialization.Encoding.PEM).decode() + authority.pem


@dataclass(frozen=True, kw_only=True, slots=True)
class HashData:
    """OCPP CertificateHashDataType: how a charger names an installed certificate (SHA-256 here)."""

    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    hash_algorithm: str = "SHA256"

    def payload(self) -> dict[str, str]:
        return {"hashAlgorithm": self.hash_algorithm, "issuerNameHash": self.issuer_name_hash,
                "issuerKeyHash": self.issuer_key_hash, "serialNumber": self.serial_number}  # fmt: skip


def hash_data(certificate: x509.Certificate, issuer: x509.Certificate | None = None) -> HashData:
    """The hash data of ``certificate`` (a root is its own issuer): SHA-256 of the issuer's DER name and of
    its public key's bits, and the serial number in hex without leading zeroes."""
    issuer = issuer or certificate
    key_bits = issuer.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    spki = _subject_public_key(key_bits)
    return HashData(issuer_name_hash=hashlib.sha256(issuer.subject.public_bytes()).hexdigest(),
                    issuer_key_hash=hashlib.sha256(spki).hexdigest(),
                    serial_number=format(certificate.serial_number, "x"))  # fmt: skip


def _subject_public_key(spki_der: bytes) -> bytes:
    """The BIT STRING contents of a DER SubjectPublicKeyInfo (what RFC 6960 hashes as the issuer key)."""

    # SEQUENCE { SEQUENCE algorithm, BIT STRING key }: skip the outer header and the algorithm element
    def length(data: bytes, at: int) -> tuple[int, int]:
        first = data[at]
        if first < 0x80:
            return first, at + 1
        count = first & 0x7F
        return int.from_bytes(data[at + 1 : at + 1 + count], "big"), at + 1 + count

    _, body = length(spki_der, 1)
    algorithm_length, algorithm_body = length(spki_der, body + 1)
    at = algorithm_body + algorithm_length
    key_length, key_body = length(spki_der, at + 1)
    return spki_der[key_body + 1 : key_body + key_length]  # the first byte counts unused bits


def load_chain(pem: str) -> list[x509.Certificate]:
    """Every certificate in ``pem`` (leaf first); ValueError if there is none or one does not parse."""
    return x509.load_pem_x509_certificates(pem.encode())
