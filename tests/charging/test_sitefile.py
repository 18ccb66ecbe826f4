"""The site file: the shipped example parses; every bad file in ``cases/sitefile_errors.toml`` gives its exact
one-line message; warnings come back without failing."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest

from chargewise.charging.site import Mode, limits_at
from chargewise.charging.sitefile import parse
from chargewise.charging.sitefile_values import SiteFileError

ROOT = Path(__file__).resolve().parents[2]
TABLE = tomllib.loads((Path(__file__).parent / "cases" / "sitefile_errors.toml").read_text())


@pytest.mark.parametrize("case", TABLE["error"], ids=lambda c: c["name"])
def test_bad_file_is_one_line(case: dict[str, Any]) -> None:
    with pytest.raises(SiteFileError) as caught:
        parse(case["file"])
    message = str(caught.value)
    assert "\n" not in message
    if "message" in case:
        assert message == case["message"]
    else:
        assert message.startswith(case["message_starts"])


@pytest.mark.parametrize("case", TABLE["warning"], ids=lambda c: c["name"])
def test_warnings(case: dict[str, Any]) -> None:
    assert list(parse(case["file"]).warnings) == case["messages"]


def test_the_workplace_example() -> None:
    loaded = parse((ROOT / "examples" / "site-workplace.toml").read_text())
    site = loaded.site
    assert site.root == "main" and len(site.evses) == 10 and loaded.warnings == ()
    assert site.nodes["main"].limit_a == (63.0, 63.0, 63.0)
    assert site.evses["cp02/1"].wiring == (1, 2, 0)  # its L1 lands on site L2
    assert site.evses["cp10/1"].phases == 1 and site.evses["cp10/1"].wiring[0] == 2
    assert site.evses["cp06/1"].mode is Mode.MIN_SOLAR and site.evses["cp06/1"].phase_switching
    assert site.path["cp08/1"] == ("cp08", "circuit-visitors", "panel-south", "main")
    assert site.nodes["main"].schedule[0].daily == time(17, 0)
    # 17:00 in Berlin is 16:00 UTC in winter: the evening limit is in force from then until 21:00 local
    assert limits_at(site, datetime(2026, 12, 2, 15, 59, tzinfo=UTC))["main"].phase_a[0] == 63.0
    assert limits_at(site, datetime(2026, 12, 2, 16, 0, tzinfo=UTC))["main"].phase_a[0] == 50.0
    assert limits_at(site, datetime(2026, 12, 2, 20, 0, tzinfo=UTC))["main"].phase_a[0] == 63.0
    assert limits_at(site, datetime(2026, 12, 3, 3, 0, tzinfo=UTC))["main"].phase_a[0] == 63.0
    assert limits_at(site, datetime(2026, 12, 2, 12, 0, tzinfo=UTC))["panel-south"].power_w == 22000.0


def test_absolute_schedule_and_single_phase_node() -> None:
    loaded = parse("""
[nodes.main]
limit_a = 40
phases = ["L2"]
[[nodes.main.schedule]]
at = 2026-12-24T12:00:00+01:00
limit_kw = 5
[chargers.wall]
parent = "main"
phases = 1
wiring = ["L2"]
""")
    site = loaded.site
    assert site.nodes["main"].limit_a == (0.0, 40.0, 0.0)
    before = limits_at(site, datetime(2026, 12, 24, 10, 59, tzinfo=UTC))["main"]
    after = limits_at(site, datetime(2026, 12, 24, 11, 0, tzinfo=UTC))["main"]
    assert (before.power_w, after.power_w, after.capped_by) == (float("inf"), 5000.0, "schedule")


def test_docs_name_every_key() -> None:
    from chargewise.charging import sitefile, statefile

    docs = (ROOT / "docs" / "sites.md").read_text()
    keys = (*sitefile.TOP, *sitefile.SITE_KEYS, *sitefile.POLICY_KEYS, *sitefile.METER_KEYS, *sitefile.NODE_KEYS,
            *sitefile.NODE_KINDS, *sitefile.CHANGE_KEYS, *sitefile.CHARGER_KEYS, *statefile.STATE_KEYS,
            *statefile.METER_KEYS, *statefile.EVSE_KEYS)  # fmt: skip
    missing = [
        key for key in keys if not any(form in docs for form in (f"`{key}`", f'`"{key}"`', f"`[{key}", f".{key}`"))
    ]
    assert not missing
