"""`chargewise demo` (what `make demo` runs): server + simulated site, chargers connecting and charging."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server_process import free_port

pytestmark = pytest.mark.slow


def test_demo_shows_chargers_charging_and_stops_cleanly(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chargewise", "demo", "--duration", "30", "--ocpp-port", str(free_port()),
         "--http-port", str(free_port()), "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "admin token:" in out and "stopped cleanly." in out and "Traceback" not in result.stderr
    summaries = re.findall(r"server: (\d+) chargers connected \| site: (\d+) charging", out)
    connected, charging = map(int, summaries[-1])
    assert connected >= 15 and charging >= 5, summaries[-1]
