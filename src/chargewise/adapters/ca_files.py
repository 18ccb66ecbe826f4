"""The CSMS certificate authority on disk: an operator's (``--ca-cert`` / ``--ca-key``), or our own, made on
first use in ``<data_dir>/ca/`` (``ca.pem``, and ``ca.key`` readable by its owner only)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chargewise.security.authority import Authority, make_root, new_key


class CaError(Exception):
    """The CA files cannot be used; the message is one line naming the file and the fix."""


def ca_paths(data_dir: Path) -> tuple[Path, Path]:
    return data_dir / "ca" / "ca.pem", data_dir / "ca" / "ca.key"


def open_authority(data_dir: Path, now: datetime, *, cert: Path | None = None, key: Path | None = None) -> Authority:
    """The operator's CA if ``cert`` and ``key`` are given; else ours, created now if the data directory has
    none yet."""
    if (cert is None) != (key is None):
        raise CaError("--ca-cert and --ca-key go together: give both, or neither for chargewise's own CA")
    if cert is not None and key is not None:
        return load(cert, key)
    cert_path, key_path = ca_paths(data_dir)
    if cert_path.exists() or key_path.exists():
        return load(cert_path, key_path)
    return create(cert_path, key_path, now)


def load(cert_path: Path, key_path: Path) -> Authority:
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except OSError as exc:
        raise CaError(f"cannot read the CA certificate {cert_path}: {exc.strerror}") from None
    except ValueError:
        raise CaError(f"{cert_path} is not a PEM certificate (give the CA's certificate, BEGIN CERTIFICATE)") from None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except OSError as exc:
        raise CaError(f"cannot read the CA key {key_path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise CaError(f"{key_path} is not an unencrypted PEM private key (decrypt it, e.g. openssl pkey)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise CaError(f"{key_path}: the CA key must be EC or RSA")
    mine = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    theirs = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    if mine != theirs:
        raise CaError(f"{key_path} is not the key of {cert_path}: give the key the certificate was made for")
    return Authority(certificate=certificate, key=key)


def create(cert_path: Path, key_path: Path, now: datetime) -> Authority:
    key = new_key()
    certificate = make_root(key, now)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem_key)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return Authority(certificate=certificate, key=key)
