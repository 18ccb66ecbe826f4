"""How a simulated charger treats a firmware image: slow or failing installs, and signature checks.

A failure comes from the charger's template (``ota.fails``: every install on that model fails so) or from
the image itself, whose first lines may be ``key=value`` headers (``version=2.1.0``, ``simulate=...``):

============================  ======================================================================
failure                       what the charger does
============================  ======================================================================
``download``                  every download attempt fails: DownloadFailed after its retries
``signature``                 the signature does not verify: InvalidSignature (signed updates only;
                              an unsigned update installs)
``install``                   Installing, then InstallationFailed after the install time; no reboot
``boot-loop``                 Installing, reboots, and comes back on the old version (rolled back),
                              reporting nothing more
============================  ======================================================================

A signed update (2.0.1 UpdateFirmware with signature, 1.6 SignedUpdateFirmware) is verified for real: the
signature (base64) over the image with the signing certificate's key (ECDSA or RSA PKCS#1 v1.5, SHA-256).
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

FAILURES = frozenset({"", "download", "signature", "install", "boot-loop"})
#: what an image's ``simulate=`` header may say, and the failure it means
SIMULATE = {"download-failed": "download", "signature-invalid": "signature", "install-failed": "install",
            "boot-loop": "boot-loop"}  # fmt: skip


def headers(body: bytes) -> dict[str, str]:
    """The image's leading ``key=value`` lines (at most 8)."""
    found: dict[str, str] = {}
    for line in body.split(b"\n", 8)[:8]:
        key, eq, value = line.decode("utf-8", "replace").partition("=")
        if not eq or not key.isidentifier():
            break
        found[key] = value.strip()
    return found


def failure(template_fails: str, body: bytes) -> str:
    """How this install goes wrong ("" : it does not)."""
    return SIMULATE.get(headers(body).get("simulate", ""), "") or template_fails


def signature_ok(certificate_pem: str, signature_b64: str, body: bytes) -> bool:
    """Whether ``signature_b64`` is the certificate key's signature of ``body``."""
    try:
        key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
        signature = base64.b64decode(signature_b64, validate=True)
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (ValueError, binascii.Error, InvalidSignature):
        return False
    return True
