"""OCTT CSMS cases for OCPP 2.0.1, functional block J (Meter Values), message level.

Source: "OCPP 2.0.1 Part 6 - Test Cases", block J (Meter Values), as published per case at
https://www.ocpplab.com/docs/protocols/ocpp-2-0-1/test-cases/; ids and names in /work/shared/domain/octt-csms-cases.tsv
and, past block D, in the OCTT result tables of open-source CSMSs (EVtivity's conformance page) and the
tzi-app/tzi-OCTT suite (2.0.1/). Scenarios: j_meter_values.json (format: tests/octt/scenario.py).

Every block J case in the list is covered. Clock-aligned values outside a transaction (TC_J_01) are answered; the
REST API shows meter values only per transaction, so for them only the answer and "no transaction" are checked.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningServer
from tests.octt.conftest import scenarios
from tests.octt.scenario import play

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("scenario", scenarios("v201/j_meter_values.json"))
async def test_case(octt_server: RunningServer, scenario: dict[str, Any]) -> None:
    await play(octt_server, "2.0.1", scenario)
