"""OCTT CSMS cases for OCPP 1.6J, Core profile, message level: what the central system answers, sends and stores.

Source: the OCA "OCPP 1.6 Compliancy Testing Tool, Test Case Document", as published per case at
https://www.ocpplab.com/docs/protocols/ocpp-1-6/test-cases/ (e.g. tc-003-csms), and the case list in
/work/shared/domain/octt-csms-cases.tsv. The scenarios are in core.json, one per case; see tests/octt/scenario.py.

Not covered here:
- TC_044_1/2/3_CSMS, TC_045_1_CSMS: Firmware Management profile (UpdateFirmware / GetDiagnostics), outside Core.
- TC_073 .. TC_083_CSMS: security white paper (passwords, certificates, security log, signed firmware).
- TC_085 .. TC_088_CSMS: transport (Basic auth, TLS, subprotocol), covered by tests/e2e/test_security_profiles.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningServer
from tests.octt.conftest import scenarios
from tests.octt.scenario import play

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("scenario", scenarios("v16/core.json"))
async def test_case(octt_server: RunningServer, scenario: dict[str, Any]) -> None:
    await play(octt_server, "1.6", scenario)
