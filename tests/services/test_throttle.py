"""The failed-password throttle, driven by the scripts in ``cases/throttle.json`` (time is data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chargewise.services.throttle import Throttle, ThrottleLimits

TABLE = json.loads((Path(__file__).parent / "cases" / "throttle.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in TABLE["cases"]])
def test_throttle(case: dict[str, Any]) -> None:
    throttle = Throttle(ThrottleLimits(**case["limits"]))
    for step in case["steps"]:
        if step[0] == "fail":
            throttle.fail(step[1], step[2])
        elif step[0] == "check":
            assert throttle.retry_after(step[1], step[2]) == step[3], step
        else:
            assert len(throttle) == step[1], step
