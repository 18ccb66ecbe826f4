"""The EV-connection timeout is learned from what the server sees of a charger's configuration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chargewise.services.ev_connection import DEFAULT_TIMEOUT, LONGEST, EvConnectionTimeouts

TX_CTRLR = {"component": {"name": "TxCtrlr"}, "variable": {"name": "EVConnectionTimeOut"}}


def test_unknown_chargers_get_the_default() -> None:
    assert EvConnectionTimeouts().timeout("CP-1") == DEFAULT_TIMEOUT == timedelta(seconds=600)


@pytest.mark.parametrize(("action", "payload", "answer", "learned"), [
    ("GetVariables", {}, {"getVariableResult": [TX_CTRLR | {"attributeStatus": "Accepted", "attributeValue": "90"}]},
     90),
    ("GetVariables", {}, {"getVariableResult": [TX_CTRLR | {"attributeStatus": "Rejected", "attributeValue": "90"}]},
     None),
    ("GetVariables", {}, {"getVariableResult": [TX_CTRLR | {"attributeStatus": "Accepted", "attributeValue": "90",
                                                            "attributeType": "Target"}]}, None),
    ("GetVariables", {}, {"getVariableResult": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {
        "name": "EVConnectionTimeOut"}, "attributeStatus": "Accepted", "attributeValue": "90"}]}, None),
    ("SetVariables", {"setVariableData": [TX_CTRLR | {"attributeValue": "45"}]},
     {"setVariableResult": [TX_CTRLR | {"attributeStatus": "RebootRequired"}]}, 45),
    ("SetVariables", {"setVariableData": [TX_CTRLR | {"attributeValue": "45"}]},
     {"setVariableResult": [TX_CTRLR | {"attributeStatus": "Rejected"}]}, None),
    ("GetConfiguration", {}, {"configurationKey": [{"key": "ConnectionTimeOut", "readonly": False, "value": "30"}]},
     30),
    ("ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "15"}, {"status": "Accepted"}, 15),
    ("ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "15"}, {"status": "Rejected"}, None),
    ("ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "-5"}, {"status": "Accepted"}, None),
    ("ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "soon"}, {"status": "Accepted"}, None),
    ("GetConfiguration", {}, {"configurationKey": "not a list"}, None),
])  # fmt: skip
def test_learned_from_commands_and_their_answers(
    action: str, payload: dict[str, Any], answer: dict[str, Any], learned: int | None
) -> None:
    timeouts = EvConnectionTimeouts()
    timeouts.observe_call("CP-1", action, payload, answer)
    assert timeouts.timeout("CP-1") == (DEFAULT_TIMEOUT if learned is None else timedelta(seconds=learned))
    assert timeouts.timeout("CP-2") == DEFAULT_TIMEOUT


def test_learned_from_a_notify_report_actual_value_only() -> None:
    timeouts = EvConnectionTimeouts()
    attributes = [{"type": "Target", "value": "10"}, {"value": "75"}, {"type": "MaxSet", "value": "999"}]
    timeouts.observe_report("CP-1", [{"component": {"name": "Other"}}, TX_CTRLR | {"variableAttribute": attributes}])
    assert timeouts.timeout("CP-1") == timedelta(seconds=75)


def test_absurd_values_are_capped_and_memory_is_bounded() -> None:
    timeouts = EvConnectionTimeouts(max_chargers=2)
    for charger_id in ("A", "B", "C"):
        timeouts.observe_call(charger_id, "ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "9" * 30},
                              {"status": "Accepted"})  # fmt: skip
    assert timeouts.timeout("C") == LONGEST
    assert timeouts.timeout("A") == DEFAULT_TIMEOUT  # the oldest learned was forgotten
