"""Reconnect storm, bounded: chargers connected and booted, the server SIGKILLed and started again; every one is
commandable through REST (TriggerMessage answered) well within 60 s, and the server answered no InternalError.
The chargers reconnect as real firmware does, without a new BootNotification. ``python -m bench.storm`` runs
the full-size version (10,000 chargers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import storm

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_every_charger_is_commandable_soon_after_a_restart(version: str, tmp_path: Path) -> None:
    args = storm.parse(["--chargers", "150", "--ocpp", version, "--ramp", "5", "--within", "60", "--quiet",
                        "--settle", "2", "--work-dir", str(tmp_path)])  # fmt: skip
    result = await storm.run(args)
    assert len(result.answered_after) == 150, result.statuses
    assert result.internal_errors == result.internal_errors_first == 0
    assert not [s for s in result.statuses if s not in (200, 409)], result.statuses  # offline until it reconnects
