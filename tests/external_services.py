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


def require_program(path: str, debian_package: str) -> str:
    """Return ``path`` (a program the test runs, e.g. /usr/sbin/haproxy); when it is missing, install its Debian
    package (as root with apt-get, as CI does on a fresh machine), else skip (locally) or fail (CI)."""
    import shutil
    import subprocess

    if os.path.exists(path):
        return path
    hint = f"apt-get install -y {debian_package}"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        done = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", debian_package],
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        if done.returncode == 0 and os.path.exists(path):
            return path
        hint += f" (tried: {done.stderr.strip().splitlines()[-1:] or done.returncode})"
    reason = f"{path} not found; install it with: {hint}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: required programs must be installable)", pytrace=False)
    pytest.skip(reason)
