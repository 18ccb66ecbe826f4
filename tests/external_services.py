"""Gate tests on an external service (PostgreSQL, Redis, NATS, MQTT broker...) being reachable.

Call ``require_service`` at the top of a fixture or test. Locally an absent service skips the test with the
command that starts it; in CI (``CI=true``) it fails instead, so a missing service never passes unnoticed.
"""

from __future__ import annotations

import os
import socket

import pytest

_CONNECT_TIMEOUT_S = 1.0


def require_service(name: str, host: str, port: int, start_hint: str) -> None:
    """Return if ``host:port`` accepts a TCP connection; otherwise skip (locally) or fail (CI) the test."""
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S):
            return
    except OSError as error:
        reason = f"{name} not reachable at {host}:{port}; start it with: {start_hint}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: required services must be running; {error})", pytrace=False)
        pytest.skip(reason)
