"""The CSMS's credential and certificate calls, as the simulated charger answers them, for both versions.

The dialects merge these into their route tables (``routes_16`` / ``routes_201``); calls that also carry other
settings (1.6 ChangeConfiguration, 2.0.1 SetVariables, TriggerMessage) handle the credential part here and
hand the rest to the dialect's own handler. State and rules live in ``credentials.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chargewise.ocpp.frames import Payload
from chargewise.simulator.credentials import Credentials, NetworkProfile
from chargewise.simulator.ports import Charger, Reply


class Speaker(Protocol):
    """A dialect: what these handlers need of it."""

    fw: Charger


Route = Callable[[Any, Payload, float], Reply]
_PASSWORD = ("SecurityCtrlr", "BasicAuthPassword")
_PRIORITY = ("OCPPCommCtrlr", "NetworkConfigurationPriority")


def _creds(d: Speaker) -> Credentials:
    return d.fw.credentials


def _sign_request(d: Speaker, payload: Payload) -> Callable[[float], None]:
    """After a trigger's answer: make a key and CSR and send SignCertificate."""

    def send(now: float) -> None:
        d.fw.note(now, "certificate signing request sent")
        d.fw.send("SignCertificate", {**payload, "csr": _creds(d).csr()}, now)

    return send


# ---------------------------------------------------------------------- both versions
def certificate_signed(d: Speaker, p: Payload, now: float) -> Reply:
    status = _creds(d).certificate_signed(p["certificateChain"], now)
    d.fw.note(now, f"CertificateSigned {status}")
    return Reply(payload={"status": status})


def install_certificate(d: Speaker, p: Payload, now: float) -> Reply:
    return Reply(payload={"status": _creds(d).install(p["certificateType"], p["certificate"])})


def delete_certificate(d: Speaker, p: Payload, now: float) -> Reply:
    return Reply(payload={"status": _creds(d).delete(p["certificateHashData"])})


# ---------------------------------------------------------------------- 1.6
def routes_16(change_configuration: Route) -> dict[str, Route]:
    def change(d: Speaker, p: Payload, now: float) -> Reply:
        key = p["key"].lower()
        if key == "authorizationkey":  # hex of 16-20 bytes; it reconnects with them at once (TC_073_CS)
            try:
                password = bytes.fromhex(p["value"]).decode()
            except (ValueError, UnicodeDecodeError):
                return Reply(payload={"status": "Rejected"})
            if not 16 <= len(password.encode()) <= 20:
                return Reply(payload={"status": "Rejected"})
            status = _creds(d).set_password(password)
            return Reply(payload={"status": status}, after=lambda t: d.fw.reconnect(t, "new AuthorizationKey"))
        if key == "securityprofile":
            value = p["value"].strip()
            return Reply(payload={"status": _creds(d).raise_profile(int(value)) if value.isdigit() else "Rejected"})
        return change_configuration(d, p, now)

    def trigger(d: Speaker, p: Payload, now: float) -> Reply:
        if p["requestedMessage"] == "SignChargePointCertificate":
            return Reply(payload={"status": "Accepted"}, after=_sign_request(d, {}))
        return Reply(payload={"status": "NotImplemented"})

    def installed(d: Speaker, p: Payload, now: float) -> Reply:
        found = [h.payload() for _, h in _creds(d).installed([p["certificateType"]])]
        return Reply(payload={"status": "Accepted", "certificateHashData": found} if found else {"status": "NotFound"})

    return {"ChangeConfiguration": change, "ExtendedTriggerMessage": trigger, "CertificateSigned": certificate_signed,
            "InstallCertificate": install_certificate, "GetInstalledCertificateIds": installed,
            "DeleteCertificate": delete_certificate}  # fmt: skip


# ---------------------------------------------------------------------- 2.0.1
def routes_201(set_variables: Route, trigger_message: Route) -> dict[str, Route]:
    def variables(d: Speaker, p: Payload, now: float) -> Reply:
        results = []
        for item in p["setVariableData"]:
            where = (item["component"]["name"], item["variable"]["name"])
            if where == _PASSWORD:
                status = _creds(d).set_password(item["attributeValue"])
            elif where == _PRIORITY:
                status = _creds(d).set_priority(item["attributeValue"])
            else:
                results += set_variables(d, {"setVariableData": [item]}, now).payload["setVariableResult"]
                continue
            results.append({"attributeType": item.get("attributeType", "Actual"), "attributeStatus": status,
                            "component": item["component"], "variable": item["variable"]})  # fmt: skip
        return Reply(payload={"setVariableResult": results})

    def trigger(d: Speaker, p: Payload, now: float) -> Reply:
        if p["requestedMessage"] == "SignChargingStationCertificate":
            return Reply(payload={"status": "Accepted"},
                         after=_sign_request(d, {"certificateType": "ChargingStationCertificate"}))  # fmt: skip
        return trigger_message(d, p, now)

    def network_profile(d: Speaker, p: Payload, now: float) -> Reply:
        data = p["connectionData"]
        network = NetworkProfile(url=data["ocppCsmsUrl"], security_profile=data["securityProfile"])
        return Reply(payload={"status": _creds(d).set_profile_slot(p["configurationSlot"], network)})

    def installed(d: Speaker, p: Payload, now: float) -> Reply:
        chains = [{"certificateType": kind, "certificateHashData": h.payload()}
                  for kind, h in _creds(d).installed(p.get("certificateType"))]  # fmt: skip
        return Reply(payload={"status": "Accepted", "certificateHashDataChain": chains} if chains
                     else {"status": "NotFound"})  # fmt: skip

    return {"SetVariables": variables, "TriggerMessage": trigger, "SetNetworkProfile": network_profile,
            "CertificateSigned": certificate_signed, "InstallCertificate": install_certificate,
            "GetInstalledCertificateIds": installed, "DeleteCertificate": delete_certificate}  # fmt: skip
