"""OCTT CSMS cases for OCPP 2.0.1, functional block K (Smart Charging), message level.

Source: "OCPP 2.0.1 Part 6 - Test Cases", block K (Smart Charging), as published per case at
https://www.ocpplab.com/docs/protocols/ocpp-2-0-1/test-cases/; ids and names in /work/shared/domain/octt-csms-cases.tsv
and, past block D, in the OCTT result tables of open-source CSMSs (EVtivity's conformance page) and the
tzi-app/tzi-OCTT suite (2.0.1/). Scenarios: k_smart_charging.json (format: tests/octt/scenario.py).

Not covered here:
- TC_K_55_CSMS: the CSMS judges an EV schedule against its own limits, which belongs to the smart-charging issue.
- TC_K_53, K_57, K_58, K_59_CSMS (ISO 15118 charging needs): the CSMS answers NotifyEVChargingNeeds Accepted and
  then sends a schedule computed from the needs. Until the smart-charging engine exists, chargewise answers
  Rejected with reasonCode NoSchedule (tests/handlers/v201/test_notify_ev_charging_needs.py), since Accepted would
  promise the EV a schedule that nothing computes. The scenarios were written (commit 8662eec, in
  k_smart_charging.json) and come back with the engine.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningServer
from tests.octt.conftest import scenarios
from tests.octt.scenario import play

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("scenario", scenarios("v201/k_smart_charging.json"))
async def test_case(octt_server: RunningServer, scenario: dict[str, Any]) -> None:
    await play(octt_server, "2.0.1", scenario)
