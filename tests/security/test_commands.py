"""Which message carries which change, per version, and every payload passes the official schema."""

from __future__ import annotations

from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.schemas import schema_set
from chargewise.security import commands
from chargewise.security.authority import HashData

V16, V201 = OcppVersion.V16, OcppVersion.V201
HASH = HashData(issuer_name_hash="aa", issuer_key_hash="bb", serial_number="1f")


def valid(version: OcppVersion, call: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    action, payload = call
    assert schema_set(version).check_request(action, payload) is None, (action, payload)
    return call


def test_a_new_password_is_authorization_key_or_basic_auth_password() -> None:
    assert valid(V16, commands.password_change(V16, "p" * 20)) == (
        "ChangeConfiguration", {"key": "AuthorizationKey", "value": "70" * 20})  # hex (whitepaper, TC_073)  # fmt: skip
    assert commands.password_problem(V16, "p" * 21) is not None and commands.password_problem(V201, "p" * 21) is None
    assert commands.password_problem(V201, "p" * 15) is not None
    action, payload = valid(V201, commands.password_change(V201, "p" * 20))
    assert action == "SetVariables"
    [item] = payload["setVariableData"]
    assert (item["component"], item["variable"]) == ({"name": "SecurityCtrlr"}, {"name": "BasicAuthPassword"})
    assert commands.change_taken(V16, {"status": "RebootRequired"}) in commands.TAKEN
    assert commands.change_taken(V201, {"setVariableResult": [{"attributeStatus": "Rejected"}]}) == "Rejected"


def test_a_16_raise_is_the_security_profile_key_then_a_hard_reset() -> None:
    plan = commands.raise_profile(V16, 2, csms_url="", priority=[0])
    assert [valid(V16, c) for c in plan.calls] == [
        ("ChangeConfiguration", {"key": "SecurityProfile", "value": "2"}), ("Reset", {"type": "Hard"})]  # fmt: skip


def test_a_201_raise_puts_the_new_profile_first_in_a_free_slot_and_keeps_the_old_ones_behind() -> None:
    plan = commands.raise_profile(V201, 3, csms_url="wss://csms:9000/ocpp", priority=[0, 1])
    [network, order, reset] = [valid(V201, c) for c in plan.calls]
    assert plan.slot == 2 and network[1]["configurationSlot"] == 2
    assert network[1]["connectionData"]["securityProfile"] == 3
    assert order[1]["setVariableData"][0]["attributeValue"] == "2,0,1"
    assert reset == ("Reset", {"type": "OnIdle"})
    assert commands.step_taken("Reset", V201, {"status": "Scheduled"}) in commands.TAKEN
    with pytest.raises(commands.Unsupported, match="give 2 or 3"):
        commands.raise_profile(V201, 1, csms_url="wss://x", priority=[0])


def test_the_priority_read_back() -> None:
    valid(V201, commands.read_priority())
    ok = {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "1, 0"}]}
    assert commands.current_priority(ok) == [1, 0]
    assert commands.current_priority({"getVariableResult": [{"attributeStatus": "UnknownVariable"}]}) == [0]


def test_certificate_kinds_per_version() -> None:
    assert valid(V16, commands.install(V16, "csms-root", "PEM"))[1]["certificateType"] == "CentralSystemRootCertificate"
    assert valid(V201, commands.install(V201, "csms-root", "PEM"))[1]["certificateType"] == "CSMSRootCertificate"
    with pytest.raises(commands.Unsupported, match=r"OCPP 1\.6 has no v2g-root"):
        commands.install(V16, "v2g-root", "PEM")
    with pytest.raises(commands.Unsupported, match="unknown"):
        commands.install(V201, "nonsense", "PEM")
    assert [c[1] for c in commands.list_installed(V16, [])] == [
        {"certificateType": "CentralSystemRootCertificate"},
        {"certificateType": "ManufacturerRootCertificate"},
    ]
    assert [valid(V201, c)[1] for c in commands.list_installed(V201, [])] == [{}]
    valid(V16, commands.delete(HASH))
    valid(V201, commands.delete(HASH))


def test_renewal_and_signed_certificates() -> None:
    assert valid(V16, commands.renew(V16))[0] == "ExtendedTriggerMessage"
    assert valid(V201, commands.renew(V201))[1] == {"requestedMessage": "SignChargingStationCertificate"}
    assert "certificateType" not in valid(V16, commands.certificate_signed(V16, "PEM"))[1]
    assert valid(V201, commands.certificate_signed(V201, "PEM"))[1]["certificateType"] == "ChargingStationCertificate"
    assert commands.sign_answer(V16, False, "InvalidCSR", "why") == {"status": "Rejected"}  # 1.6: no statusInfo
    answer = commands.sign_answer(V201, False, "InvalidCSR", "why")
    assert schema_set(V201).check_response("SignCertificate", answer) is None
    assert answer["statusInfo"] == {"reasonCode": "InvalidCSR", "additionalInfo": "why"}


def test_installed_lists_read_both_versions() -> None:
    data = {"hashAlgorithm": "SHA256", "issuerNameHash": "aa", "issuerKeyHash": "bb", "serialNumber": "1f"}
    sixteen = commands.installed(V16, {"certificateType": "CentralSystemRootCertificate"},
                                 {"status": "Accepted", "certificateHashData": [data]})  # fmt: skip
    twenty = commands.installed(V201, {}, {"status": "Accepted", "certificateHashDataChain": [
        {"certificateType": "ManufacturerRootCertificate", "certificateHashData": data}]})  # fmt: skip
    assert sixteen == [commands.Installed(kind="csms-root", hash=HASH)]
    assert twenty == [commands.Installed(kind="manufacturer-root", hash=HASH)]
    assert commands.installed(V16, {"certificateType": "CentralSystemRootCertificate"}, {"status": "NotFound"}) == []
