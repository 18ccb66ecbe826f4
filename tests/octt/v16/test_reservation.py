"""OCTT CSMS cases for OCPP 1.6J, Reservation profile, message level: what the central system sends and answers.

Source: the OCA "OCPP 1.6 Compliancy Testing Tool, Test Case Document", as published per case at
https://www.ocpplab.com/docs/protocols/ocpp-1-6/test-cases/, and /work/shared/domain/octt-csms-cases.tsv.
Scenarios: reservation.json (format: tests/octt/scenario.py). Every case of the profile in that list is covered.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningServer
from tests.octt.conftest import scenarios
from tests.octt.scenario import play

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("scenario", scenarios("v16/reservation.json"))
async def test_case(octt_server: RunningServer, scenario: dict[str, Any]) -> None:
    await play(octt_server, "1.6", scenario)
