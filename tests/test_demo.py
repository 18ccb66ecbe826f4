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
        [sys.executable, "-m", "chargewise", "demo", "--duration", "45", "--ocpp-port", str(free_port()),
         "--http-port", str(free_port()), "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "admin token:" in out and "stopped cleanly." in out and "Traceback" not in result.stderr
    first, second = out.splitlines()[:2]  # the dashboard and its login come first
    assert re.fullmatch(r"Dashboard  http://127\.0\.0\.1:\d+/ +log in with the admin token below", first.strip()), first
    assert second.strip().startswith("admin token: "), second
    summaries = re.findall(r"server: (\d+) chargers connected \| site: (\d+) charging", out)
    connected, charging = map(int, summaries[-1])
    assert connected >= 15 and charging >= 5, summaries[-1]
    # the workplace's main breaker holds: smart charging shares it among the cars
    assert "workplace main breaker 125 A per phase" in out
    phases = [float(a) for a in re.findall(r"^  L[123] +([0-9.]+) A", out, re.MULTILINE)]
    assert len(phases) == 3 and max(phases) <= 125, phases
    rows = re.findall(r"(work-\S+/\d)\s*│\s*(\d+\.\d) A x[13]\s*│\s*([0-9.]+) A\s*│\s*(\w+)", out)
    assert any(float(limit) >= 6 and why not in ("offline", "idle") for _, limit, _, why in rows), rows
