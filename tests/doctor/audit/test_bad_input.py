"""Bad site files and native inputs: one line naming the field (or file:line) and the fix, never a traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from chargewise.doctor.audit.errors import SiteError
from tests.doctor.audit.test_audit_cases import HERE, run_site

CASES: list[dict[str, Any]] = tomllib.loads((HERE / "cases" / "bad_input.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input(case: dict[str, Any]) -> None:
    with pytest.raises(SiteError) as caught:
        run_site(case["site"])
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(case["field"]), message
    assert case["fix"] in message, message


def test_a_missing_fixture_is_not_a_site_error(tmp_path: Path) -> None:
    """The core never reads files: a missing native input is the caller's to report (the CLI test covers it)."""
    with pytest.raises(FileNotFoundError):
        run_site(
            'openwrt_dhcp = "no/such/file"\n[[chargers]]\nid="a"\nmodel="emporia"\nmac="11:22:33:44:55:66"\nssid="x"'
        )
