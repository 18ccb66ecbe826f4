"""OCTT CSMS cases for OCPP 2.0.1, functional block F (Remote Control), message level.

Source: "OCPP 2.0.1 Part 6 - Test Cases", block F (Remote Control), as published per case at
https://www.ocpplab.com/docs/protocols/ocpp-2-0-1/test-cases/; ids and names in /work/shared/domain/octt-csms-cases.tsv
and, past block D, in the OCTT result tables of open-source CSMSs (EVtivity's conformance page) and the
tzi-app/tzi-OCTT suite (2.0.1/). Scenarios: f_remote_control.json (format: tests/octt/scenario.py).

Every block F case in the list is covered. TC_F_03 plays a station that leaves the idToken out of its Started
event; TC_F_04 one that reports its still-free EVSE Available while it waits for the cable.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningServer
from tests.octt.conftest import scenarios
from tests.octt.scenario import play

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("scenario", scenarios("v201/f_remote_control.json"))
async def test_case(octt_server: RunningServer, scenario: dict[str, Any]) -> None:
    await play(octt_server, "2.0.1", scenario)
