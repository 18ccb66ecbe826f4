"""Certificates and charger credentials as pure functions: CSR checks, the CSMS certificate authority's signing,
and which OCPP message carries which change in which version. No I/O, time passed in."""
