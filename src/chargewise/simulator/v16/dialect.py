"""OCPP 1.6J as the simulated charger speaks it: the messages it builds and the CSMS calls it answers.

Radio reporting (1.6 has no standard RSSI message):

- ``StatusNotification`` on connector 0 with ``errorCode`` ``WeakSignal`` (``info`` "RSSI -77 dBm") when a
  sample falls below -75 dBm, and ``NoError`` once it is back above -72 dBm.
- A vendor ``DataTransfer`` every ``RssiReportInterval`` seconds: ``vendorId`` "com.chargewise.net",
  ``messageId`` "Rssi", ``data`` the JSON text ``{"rssi": -71, "bssid": "02:00:00:00:00:01"}``.

Boot reasons: 1.6 BootNotification has no reason field, so after each boot a SecurityEventNotification
(security whitepaper) tells it: ``StartupOfTheDevice`` after power-up, ``ResetOrReboot`` otherwise, with
the reason in ``techInfo``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chargewise.ocpp.frames import Payload
from chargewise.simulator import credential_calls
from chargewise.simulator.clock import parse_iso
from chargewise.simulator.connector import Connector, Transaction
from chargewise.simulator.faults import RadioSample
from chargewise.simulator.meter import Sample, samples
from chargewise.simulator.outbox import Kind, Queued
from chargewise.simulator.ports import Charger, Reply
from chargewise.simulator.profiles import ProfileError, Purpose, from_v16
from chargewise.simulator.rf import CRITICAL_DBM, RECOVERED_DBM
from chargewise.simulator.settings import BY_KEY, SETTINGS
from chargewise.simulator.v16 import auth_calls

VENDOR_ID = "com.chargewise.net"
_PURPOSES = {"ChargePointMaxProfile": Purpose.MAX, "TxDefaultProfile": Purpose.TX_DEFAULT, "TxProfile": Purpose.TX}
_STOP_REASONS = {"ImmediateReset": "HardReset"}
_CONTEXTS = {Kind.START: "Transaction.Begin", Kind.STOP: "Transaction.End"}


class Dialect16:
    supported: frozenset[str]  # the keys of ROUTES, set below

    def __init__(self, fw: Charger) -> None:
        self.fw = fw

    def answer(self, action: str, payload: Payload, now: float) -> Reply:
        """Answer the CSMS's call ``action`` (one of :attr:`supported`) through the route table."""
        return ROUTES[action](self, payload, now)

    # ------------------------------------------------------------ messages the charger sends
    def boot(self, reason: str) -> tuple[str, Payload]:
        fw, t = self.fw, self.fw.template
        payload = {
            "chargePointVendor": t.vendor[:20],
            "chargePointModel": t.model[:20],
            "chargePointSerialNumber": fw.serial[:25],
            "firmwareVersion": fw.firmware_version[:50],
            "meterType": "AC simulated"[:25],
        }
        return "BootNotification", payload

    def status(self, c: Connector | None, now: float) -> list[tuple[str, Payload]]:
        fw = self.fw
        if c is None:
            state = "Faulted" if all(x.fault for x in fw.station.connectors) else "Available"
            error = "WeakSignal" if fw.weak_signal else "NoError"
            key, connector_id = (state, error), 0
            if fw.station.station_reported == key:
                return []
            fw.station.station_reported = key
        else:
            state, error = c.status().value, c.fault or "NoError"
            key, connector_id = (state, error), c.id
            if c.reported == key:
                return []
            c.reported = key
        payload: Payload = {
            "connectorId": connector_id,
            "errorCode": error,
            "status": state,
            "timestamp": fw.now_iso(now),
        }
        if error == "WeakSignal" and fw.rssi is not None:
            payload["info"] = f"RSSI {fw.rssi.rssi_dbm} dBm"
        return [("StatusNotification", payload)]

    def authorize(self, id_tag: str) -> tuple[str, Payload]:
        return "Authorize", {"idTag": id_tag[:20]}

    def authorized(self, answer: Payload) -> bool:
        return bool(answer["idTagInfo"]["status"] == "Accepted")

    def tx_message(
        self, c: Connector, tx: Transaction, kind: Kind, now: float, trigger: str, reason: str | None = None
    ) -> Queued | None:
        fw, stamp = self.fw, self.fw.now_iso(now)
        if kind is Kind.EVENT:
            return None  # 1.6 reports charging-state changes with StatusNotification
        if kind is Kind.START:
            payload = {"connectorId": c.id, "idTag": (tx.id_tag or "")[:20], "meterStart": round(tx.meter_start_wh),
                       "timestamp": stamp}  # fmt: skip
            if tx.reservation_id is not None:
                payload["reservationId"] = tx.reservation_id
            return Queued(action="StartTransaction", payload=payload, kind=kind, tx_local=tx.local, created=now)
        measurands = fw.settings.get("meter_measurands").split(",")
        if kind is Kind.STOP:
            payload = {"meterStop": round(c.register_wh), "timestamp": stamp,
                       "reason": _STOP_REASONS.get(reason or "Local", reason or "Local")}  # fmt: skip
            if tx.id_tag:
                payload["idTag"] = tx.id_tag[:20]
            payload["transactionData"] = [
                self._meter_value(
                    samples(c, phases=fw.template.phases, measurands=measurands, energy_only=True),
                    stamp,
                    "Transaction.End",
                )
            ]
            return Queued(action="StopTransaction", payload=payload, kind=kind, tx_local=tx.local, created=now)
        context = "Trigger" if trigger == "Trigger" else "Sample.Periodic"
        values = samples(c, phases=fw.template.phases, measurands=measurands)
        payload = {"connectorId": c.id, "meterValue": [self._meter_value(values, stamp, context)]}
        return Queued(action="MeterValues", payload=payload, kind=Kind.METER, tx_local=tx.local, created=now)

    def _meter_value(self, values: list[Sample], stamp: str, context: str) -> Payload:
        return {"timestamp": stamp, "sampledValue": [_sampled(s, context) for s in values]}

    def resolve(self, item: Queued) -> Payload | None:
        """Fill in the transactionId the CSMS assigned (StartTransaction.conf) when the message leaves."""
        if item.action == "StartTransaction":
            return item.payload
        tx_id = self.fw.station.tx_ids.get(item.tx_local)
        if tx_id is None:
            return None
        return {**item.payload, "transactionId": int(tx_id)}

    def tx_answered(self, item: Queued, answer: Payload, now: float) -> None:
        if item.action != "StartTransaction":
            return
        fw = self.fw
        fw.station.tx_ids[item.tx_local] = str(answer["transactionId"])
        if answer["idTagInfo"]["status"] != "Accepted":
            for c in fw.station.connectors:
                if c.tx is not None and c.tx.local == item.tx_local:
                    fw.station.stop(c, now, "DeAuthorized", "Deauthorized")

    def rssi(self, sample: RadioSample, now: float, *, periodic: bool) -> list[tuple[str, Payload]]:
        fw, out = self.fw, []
        weak = sample.rssi_dbm < CRITICAL_DBM or (fw.weak_signal and sample.rssi_dbm < RECOVERED_DBM)
        if weak != fw.weak_signal:
            fw.weak_signal = weak
            out += self.status(None, now)
        if periodic:
            data = json.dumps({"rssi": sample.rssi_dbm, "bssid": sample.bssid}, separators=(",", ":"))
            out.append(("DataTransfer", {"vendorId": VENDOR_ID, "messageId": "Rssi", "data": data}))
        return out

    def security_event(self, kind: str, tech_info: str, at: float) -> tuple[str, Payload]:
        return "SecurityEventNotification", {"type": kind[:50], "timestamp": self.fw.now_iso(at),
                                             "techInfo": tech_info[:255]}  # fmt: skip

    def firmware_status(self, status: str, request_id: int | None) -> tuple[str, Payload] | None:
        if request_id is not None:  # a SignedUpdateFirmware's job (the security extension)
            return "SignedFirmwareStatusNotification", {"status": status, "requestId": request_id}
        if status == "InstallRebooting":
            return None  # 1.6 has no such status: Installing was sent, Installed follows the reboot
        return "FirmwareStatusNotification", {"status": status}

    def log_status(self, status: str, request_id: int | None, kind: str) -> tuple[str, Payload]:
        if kind == "diagnostics":
            return "DiagnosticsStatusNotification", {"status": status}
        status = {"UploadFailed": "UploadFailure"}.get(status, status)
        payload: Payload = {"status": status}
        if request_id is not None:
            payload["requestId"] = request_id
        return "LogStatusNotification", payload

    # ------------------------------------------------------------ calls the CSMS makes
    def remote_start(self, p: Payload, now: float) -> Reply:
        fw = self.fw
        c = fw.station.find_connector(p.get("connectorId"))
        profile = None
        if "chargingProfile" in p and c is not None:
            try:
                profile = from_v16(p["chargingProfile"], c.id, now)
            except ProfileError:
                return Reply(payload={"status": "Rejected"})
        if c is None or not fw.station.remote_start(c, p["idTag"], None, profile):
            return Reply(payload={"status": "Rejected"})
        return Reply(payload={"status": "Accepted"}, after=fw.station.after_remote_start(c))

    def remote_stop(self, p: Payload, now: float) -> Reply:
        c = self.fw.station.transaction(str(p["transactionId"]))
        if c is None:
            return Reply(payload={"status": "Rejected"})
        return Reply(payload={"status": "Accepted"}, after=lambda t: self.fw.station.stop(c, t, "Remote", "RemoteStop"))

    def reset(self, p: Payload, now: float) -> Reply:
        kind = "HardReset" if p["type"] == "Hard" else "SoftReset"
        self.fw.reset(now, reason="RemoteReset", stop_reason=kind)
        return Reply(payload={"status": "Accepted"}, after=self.fw.after_reset())

    def change_availability(self, p: Payload, now: float) -> Reply:
        connector_id = p["connectorId"]
        if not 0 <= connector_id <= len(self.fw.station.connectors):
            return Reply(payload={"status": "Rejected"})
        status = self.fw.station.change_availability(connector_id, p["type"] == "Operative", now)
        return Reply(payload={"status": status})

    def get_configuration(self, p: Payload, now: float) -> Reply:
        wanted = p.get("key")
        rows, unknown = [], []
        settings = [s for s in SETTINGS if s.key] if not wanted else []
        for key in wanted or []:
            found = BY_KEY.get(key.lower())
            if found is None:
                unknown.append(key[:50])
            else:
                settings.append(found)
        for s in settings:
            assert s.key is not None
            rows.append({"key": s.key, "readonly": s.readonly, "value": self.fw.settings.get(s.name)[:500]})
        payload: Payload = {"configurationKey": rows}
        if unknown:
            payload["unknownKey"] = unknown
        return Reply(payload=payload)

    def change_configuration(self, p: Payload, now: float) -> Reply:
        setting = BY_KEY.get(p["key"].lower())
        if setting is None:
            return Reply(payload={"status": "NotSupported"})
        return Reply(payload={"status": self.fw.settings.change(setting, p["value"])})

    def trigger_message(self, p: Payload, now: float) -> Reply:
        action = self.fw.trigger(p["requestedMessage"], p.get("connectorId"))
        if action is None:
            return Reply(payload={"status": "NotImplemented"})
        return Reply(payload={"status": "Accepted"}, after=action)

    def unlock_connector(self, p: Payload, now: float) -> Reply:
        connector_id = p["connectorId"]
        if not 0 < connector_id <= len(self.fw.station.connectors):
            return Reply(payload={"status": "NotSupported"})
        return Reply(payload={"status": self.fw.station.unlock(self.fw.station.connectors[connector_id - 1], now)})

    def set_charging_profile(self, p: Payload, now: float) -> Reply:
        try:
            profile = from_v16(p["csChargingProfiles"], p["connectorId"], now)
        except ProfileError as exc:
            self.fw.note(now, f"profile rejected: {exc}")
            return Reply(payload={"status": "Rejected"})
        return Reply(payload={"status": self.fw.station.set_profile(profile, now)})

    def clear_charging_profile(self, p: Payload, now: float) -> Reply:
        purpose = _PURPOSES.get(p["chargingProfilePurpose"]) if "chargingProfilePurpose" in p else None
        removed = self.fw.station.clear_profiles(
            now, profile_id=p.get("id"), evse_id=p.get("connectorId"), purpose=purpose, stack_level=p.get("stackLevel")
        )
        return Reply(payload={"status": "Accepted" if removed else "Unknown"})

    def get_composite_schedule(self, p: Payload, now: float) -> Reply:
        connector_id, fw = p["connectorId"], self.fw
        if not 0 <= connector_id <= len(fw.station.connectors):
            return Reply(payload={"status": "Rejected"})
        unit = p.get("chargingRateUnit") or fw.template.quirks.rate_units[0]
        start = float(int(now))
        periods = fw.station.composite(connector_id, start, p["duration"], unit)
        schedule = {
            "duration": p["duration"],
            "startSchedule": fw.now_iso(start),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [
                {"startPeriod": x.start, "limit": x.limit, "numberPhases": x.phases} for x in periods
            ],
        }
        return Reply(payload={"status": "Accepted", "connectorId": connector_id, "scheduleStart": fw.now_iso(start),
                              "chargingSchedule": schedule})  # fmt: skip

    def update_firmware(self, p: Payload, now: float) -> Reply:
        self.fw.update_firmware(
            p["location"], parse_iso(p["retrieveDate"]), p.get("retries", 1), p.get("retryInterval", 30), None
        )
        return Reply(payload={})

    def signed_update_firmware(self, p: Payload, now: float) -> Reply:
        firmware = p["firmware"]
        self.fw.update_firmware(firmware["location"], parse_iso(firmware["retrieveDateTime"]), p.get("retries", 1),
                                p.get("retryInterval", 30), p["requestId"],
                                (firmware["signingCertificate"], firmware["signature"]))  # fmt: skip
        return Reply(payload={"status": "Accepted"})

    def get_diagnostics(self, p: Payload, now: float) -> Reply:
        name = self.fw.upload_log(p["location"], None, p.get("retries", 1), p.get("retryInterval", 30),
                                  "diagnostics", now)  # fmt: skip
        return Reply(payload={"fileName": name[:255]})

    def get_log(self, p: Payload, now: float) -> Reply:
        kind = "security" if p["logType"] == "SecurityLog" else "log"
        name = self.fw.upload_log(p["log"]["remoteLocation"], p["requestId"], p.get("retries", 1),
                                  p.get("retryInterval", 30), kind, now)  # fmt: skip
        return Reply(payload={"status": "Accepted", "filename": name[:255]})

    def data_transfer(self, p: Payload, now: float) -> Reply:
        status = "UnknownMessageId" if p["vendorId"] == VENDOR_ID else "UnknownVendorId"
        return Reply(payload={"status": status})


def _sampled(s: Sample, context: str) -> dict[str, Any]:
    row: dict[str, Any] = {"value": _number(s.value), "context": context, "measurand": s.measurand, "unit": s.unit,
                           "location": s.location}  # fmt: skip
    if s.phase is not None:
        row["phase"] = s.phase
    return row


def _number(value: float) -> str:
    """A 1.6 sampled value: plain decimal text, no exponent."""
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0")


# The route table: every CSMS call this dialect answers (the same set as ``Dialect16.supported``).
ROUTES: dict[str, Callable[[Dialect16, Payload, float], Reply]] = {
    "RemoteStartTransaction": Dialect16.remote_start,
    "RemoteStopTransaction": Dialect16.remote_stop,
    "Reset": Dialect16.reset,
    "ChangeAvailability": Dialect16.change_availability,
    "GetConfiguration": Dialect16.get_configuration,
    "ChangeConfiguration": Dialect16.change_configuration,
    "TriggerMessage": Dialect16.trigger_message,
    "UnlockConnector": Dialect16.unlock_connector,
    "SetChargingProfile": Dialect16.set_charging_profile,
    "ClearChargingProfile": Dialect16.clear_charging_profile,
    "GetCompositeSchedule": Dialect16.get_composite_schedule,
    "UpdateFirmware": Dialect16.update_firmware,
    "SignedUpdateFirmware": Dialect16.signed_update_firmware,
    "GetDiagnostics": Dialect16.get_diagnostics,
    "GetLog": Dialect16.get_log,
    "DataTransfer": Dialect16.data_transfer,
    "ClearCache": auth_calls.clear_cache,
    "SendLocalList": auth_calls.send_local_list,
    "GetLocalListVersion": auth_calls.get_local_list_version,
    "ReserveNow": auth_calls.reserve_now,
    "CancelReservation": auth_calls.cancel_reservation,
}
ROUTES.update(credential_calls.routes_16(Dialect16.change_configuration))  # password, profile, certificates
Dialect16.supported = frozenset(ROUTES)
