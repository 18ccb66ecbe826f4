"""OCTT CSMS cases for OCPP 2.0.1, functional block B (Provisioning), message level.

Source: "OCPP 2.0.1 Part 6 - Test Cases", block B, as published per case at
https://www.ocpplab.com/docs/protocols/ocpp-2-0-1/test-cases/ (e.g. tc-b-30-csms); ids and names in
/work/shared/domain/octt-csms-cases.tsv. Scenarios: b_provisioning.json (format: tests/octt/scenario.py).
TC_B_30 is played twice, once Pending and once Rejected.

Not covered here:
- TC_B_58_CSMS: WebSocket subprotocol validation is a handshake matter, not a message (tests/e2e cover the handshake).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningServer
from tests.octt.conftest import scenarios
from tests.octt.scenario import play

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("scenario", scenarios("v201/b_provisioning.json"))
async def test_case(octt_server: RunningServer, scenario: dict[str, Any]) -> None:
    await play(octt_server, "2.0.1", scenario)
