"""TLS for a simulated charger that holds a client certificate (security profile 3): the run's client context
(whose CAs it trusts, how it checks names) plus the charger's own certificate and key."""

from __future__ import annotations

import functools
import ssl
import tempfile


@functools.lru_cache(maxsize=4096)
def with_client_certificate(base: ssl.SSLContext | None, chain_pem: str, key_pem: str) -> ssl.SSLContext:
    """A client context trusting what ``base`` trusts (None: the system's CAs) that presents ``chain_pem``."""
    context = ssl.create_default_context()
    if base is not None:
        context.check_hostname = base.check_hostname
        context.verify_mode = base.verify_mode
        trusted = base.get_ca_certs(binary_form=True)
        if trusted:
            context.load_verify_locations(cadata=b"".join(trusted))
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as pem:  # ssl loads a certificate only from a file
        pem.write(chain_pem + key_pem)
        pem.flush()
        context.load_cert_chain(pem.name)
    return context
