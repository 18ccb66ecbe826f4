"""A second ``chargewise serve`` on an OCPP port one listens on already fails with one line, unless both were
started with ``--workers`` (before, SO_REUSEPORT was always on and two servers silently split the chargers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.server_process import ServerProcess, free_port


async def test_a_second_serve_on_the_same_port_fails_with_one_line(tmp_path: Path) -> None:
    first = ServerProcess(tmp_path / "first")
    await first.start()
    try:
        second = subprocess.run(  # noqa: ASYNC221 - a short-lived process; nothing else runs meanwhile
            [sys.executable, "-m", "chargewise", "serve", "--host", "127.0.0.1", "--ocpp-port", str(first.ocpp_port),
             "--http-port", str(free_port()), "--data-dir", str(tmp_path / "second")],
            env={**os.environ, "CHARGEWISE_ADMIN_TOKEN": "t"}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        first.terminate()
    assert second.returncode == 2, second
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "chargewise: error:" in lines[0] and "--ocpp-port" in lines[0], second.stderr
    assert "in use" in lines[0]
