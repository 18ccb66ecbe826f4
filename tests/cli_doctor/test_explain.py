"""``chargewise doctor explain``: the report from the stored signals, as text and JSON; bad input is one line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.link_signals import SqlLinkSignalStore
from chargewise.cli import main
from chargewise.doctor.findings import Cause
from chargewise.doctor.signals import ClosedBy
from chargewise.domain.model import Registration
from chargewise.services.link_signals import LinkSignals


def stored_charger(data_dir: Path) -> None:
    """CP1 in a fresh SQLite store, with an hour of weak-signal link signals written the way the server does."""

    async def write() -> None:
        store = await open_store(f"sqlite+aiosqlite:///{data_dir / 'chargewise.db'}")
        try:
            await store.add_charger("CP1", registration=Registration.ACCEPTED)
            signals = LinkSignals(store=SqlLinkSignalStore(store))
            start = datetime.now(UTC) - timedelta(hours=1)
            for k in range(6):
                at = start + timedelta(minutes=10 * k)
                signals.connected("CP1", at, remote="203.0.113.7", ping_interval_s=60, ping_timeout_s=30)
                signals.radio("CP1", at + timedelta(seconds=5), -79.0, bssid="02:00:00:00:00:01")
                signals.disconnected("CP1", at + timedelta(minutes=8), close_code=1006, closed_by=ClosedBy.TRANSPORT)
            await signals.flush()
        finally:
            await store.close()

    data_dir.mkdir(parents=True)
    asyncio.run(write())


def test_json_has_the_findings_and_the_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stored_charger(tmp_path / "data")
    assert main(["doctor", "explain", "CP1", "--data-dir", str(tmp_path / "data"), "--since", "2h", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["findings"][0]["cause"] in {c.value for c in Cause}
    assert all(f["evidence"] is not None and f["fix"] is not None for f in view["findings"])
    assert [e["what"] for e in view["timeline"]].count("disconnected") == 6
    assert view["link"]["rssi_median_dbm"] == -79


def test_text_names_the_cause_and_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stored_charger(tmp_path / "data")
    assert main(["doctor", "explain", "CP1", "--data-dir", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CP1: not connected now") and "What to do:" in out and "Timeline" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["NOPE"], "unknown charger 'NOPE'"),
    (["CP1", "--since", "yesterday"], "since 'yesterday' is neither a duration nor an ISO 8601 time"),
])  # fmt: skip
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], fragment: str) -> None:
    stored_charger(tmp_path / "data")
    done = subprocess.run([sys.executable, "-m", "chargewise", "doctor", "explain", *args, "--data-dir",
                           str(tmp_path / "data")], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chargewise: error:") and fragment in lines[0], done.stderr
