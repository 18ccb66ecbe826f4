"""OCPP 2.0.1 as the simulated charger speaks it: the messages it builds and the CSMS calls it answers.

Radio reporting uses the one standardized RSSI variable, ``DataLink.SignalStrength`` (decimal, dBm):

- readable with GetVariables and listed in GetBaseReport / NotifyReport (``supportsMonitoring`` true);
- a hard-wired Periodic monitor sends NotifyEvent (trigger ``Periodic``, ``HardWiredMonitor``) every
  ``rssi_report_interval_s`` of the template, and a hard-wired LowerThreshold monitor at -75 dBm sends
  ``Alerting`` (``cleared`` true once back above -72 dBm);
- SetVariableMonitoring on ``DataLink.SignalStrength`` adds custom monitors (UpperThreshold,
  LowerThreshold, Delta, Periodic) that report through NotifyEvent as ``CustomMonitor``.

Transactions: TxStartPoint PowerPathClosed (EV connected and authorized), TxStopPoint
EVConnected,Authorized; the transactionId is a UUID from the seeded RNG; ``seqNo`` counts every
TransactionEvent of the transaction, and ``offline`` marks events created while not connected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chargewise.ocpp.frames import Payload
from chargewise.simulator import credential_calls
from chargewise.simulator.clock import parse_iso
from chargewise.simulator.connector import Connector, Transaction
from chargewise.simulator.faults import RadioSample
from chargewise.simulator.meter import Sample, samples
from chargewise.simulator.outbox import Kind, Queued
from chargewise.simulator.ports import Charger, Reply
from chargewise.simulator.profiles import ProfileError, Purpose, from_v201
from chargewise.simulator.rf import CRITICAL_DBM, RECOVERED_DBM
from chargewise.simulator.settings import BY_VARIABLE, SETTINGS, Setting
from chargewise.simulator.v201 import auth_calls

_PURPOSES = {"ChargingStationMaxProfile": Purpose.MAX, "TxDefaultProfile": Purpose.TX_DEFAULT, "TxProfile": Purpose.TX}
_EVENT_TYPES = {Kind.START: "Started", Kind.STOP: "Ended", Kind.METER: "Updated", Kind.EVENT: "Updated"}
_CONTEXTS = {Kind.START: "Transaction.Begin", Kind.STOP: "Transaction.End"}
_STOP_REASONS = {"HardReset": "ImmediateReset", "SoftReset": "ImmediateReset", "UnlockCommand": "Other"}
_DATA_TYPES = {"int": "integer", "bool": "boolean", "str": "string", "csv": "SequenceList"}
_MONITOR_TYPES = frozenset({"UpperThreshold", "LowerThreshold", "Delta", "Periodic"})
_SIGNAL = ("DataLink", "SignalStrength", None)


@dataclass(kw_only=True, slots=True)
class Monitor:
    """A custom monitor on ``DataLink.SignalStrength`` (SetVariableMonitoring) and what it last saw."""

    id: int
    type: str  # UpperThreshold, LowerThreshold, Delta, Periodic
    value: float  # the threshold, the delta, or the period in seconds
    active: bool = False  # a threshold monitor: the signal is beyond it
    last: int | None = None  # a Delta monitor: the RSSI last reported
    next: float = 0.0  # a Periodic monitor: when it next reports


class Dialect201:
    supported: frozenset[str]  # the keys of ROUTES, set below

    def __init__(self, fw: Charger) -> None:
        self.fw = fw
        self._event_id = 0
        self._alerting = False
        self._monitors: list[Monitor] = []  # kept across reboots, like the charger's configuration

    def answer(self, action: str, payload: Payload, now: float) -> Reply:
        """Answer the CSMS's call ``action`` (one of :attr:`supported`) through the route table."""
        return ROUTES[action](self, payload, now)

    # ------------------------------------------------------------ messages the charger sends
    def boot(self, reason: str) -> tuple[str, Payload]:
        fw, t = self.fw, self.fw.template
        station = {"model": t.model[:20], "vendorName": t.vendor[:50], "firmwareVersion": fw.firmware_version[:50],
                   "serialNumber": fw.serial[:25]}  # fmt: skip
        return "BootNotification", {"chargingStation": station, "reason": reason}

    def status(self, c: Connector | None, now: float) -> list[tuple[str, Payload]]:
        if c is None:
            return []
        if c.fault is not None:
            state = "Faulted"
        elif c.inoperative and c.tx is None:
            state = "Unavailable"
        else:
            state = "Occupied" if c.ev is not None else "Reserved" if c.reserved and c.tx is None else "Available"
        if c.reported == (state, ""):
            return []
        c.reported = (state, "")
        return [("StatusNotification", {"timestamp": self.fw.now_iso(now), "connectorStatus": state, "evseId": c.id,
                                         "connectorId": 1})]  # fmt: skip

    def authorize(self, id_tag: str) -> tuple[str, Payload]:
        return "Authorize", {"idToken": {"idToken": id_tag[:36], "type": "ISO14443"}}

    def authorized(self, answer: Payload) -> bool:
        return bool(answer["idTokenInfo"]["status"] == "Accepted")

    def tx_message(
        self, c: Connector, tx: Transaction, kind: Kind, now: float, trigger: str, reason: str | None = None
    ) -> Queued | None:
        fw = self.fw
        assert tx.id is not None
        info: Payload = {
            "transactionId": tx.id,
            "chargingState": c.charging_state() if kind is not Kind.STOP else "Idle",
        }
        payload: Payload = {
            "eventType": _EVENT_TYPES[kind],
            "timestamp": fw.now_iso(now),
            "triggerReason": trigger,
            "seqNo": tx.next_seq(),
            "transactionInfo": info,
        }
        if not fw.accepted:
            payload["offline"] = True
        if kind is Kind.START:
            payload["evse"] = {"id": c.id, "connectorId": 1}
            if tx.id_tag:
                payload["idToken"] = {"idToken": tx.id_tag[:36], "type": "ISO14443"}
            if tx.remote_start_id is not None:
                info["remoteStartId"] = tx.remote_start_id
            if tx.reservation_id is not None:
                payload["reservationId"] = tx.reservation_id
        if kind is Kind.STOP:
            info["stoppedReason"] = _STOP_REASONS.get(reason or "Local", reason or "Local")
        if kind is not Kind.EVENT:
            measurands = fw.settings.get("meter_measurands").split(",")
            values = samples(c, phases=fw.template.phases, measurands=measurands, energy_only=kind is not Kind.METER)
            context = _CONTEXTS.get(kind, "Trigger" if trigger == "Trigger" else "Sample.Periodic")
            payload["meterValue"] = [
                {"timestamp": fw.now_iso(now), "sampledValue": [_sampled(s, context) for s in values]}
            ]
        return Queued(action="TransactionEvent", payload=payload, kind=kind, tx_local=tx.local, created=now)

    def resolve(self, item: Queued) -> Payload | None:
        return item.payload

    def tx_answered(self, item: Queued, answer: Payload, now: float) -> None:
        token = answer.get("idTokenInfo")
        if token is None or token.get("status") == "Accepted" or item.payload["eventType"] == "Ended":
            return
        tx_id = item.payload["transactionInfo"]["transactionId"]
        c = self.fw.station.transaction(tx_id)
        if c is not None:
            self.fw.station.stop(c, now, "DeAuthorized", "Deauthorized")

    def rssi(self, sample: RadioSample, now: float, *, periodic: bool) -> list[tuple[str, Payload]]:
        events = []
        value = str(sample.rssi_dbm)
        if periodic:
            events.append(self._event(now, "Periodic", value, "HardWiredMonitor"))
        alerting = sample.rssi_dbm < CRITICAL_DBM or (self._alerting and sample.rssi_dbm < RECOVERED_DBM)
        if alerting != self._alerting:
            self._alerting = alerting
            self.fw.weak_signal = alerting
            events.append(self._event(now, "Alerting", value, "HardWiredMonitor", cleared=not alerting))
        events.extend(self._custom_events(sample.rssi_dbm, now))
        if not events:
            return []
        return [("NotifyEvent", {"generatedAt": self.fw.now_iso(now), "seqNo": 0, "tbc": False, "eventData": events})]

    def _custom_events(self, rssi: int, now: float) -> list[Payload]:
        out = []
        for m in self._monitors:
            kind, limit = m.type, m.value
            if kind == "Periodic":
                if now >= m.next:
                    m.next = now + max(1.0, limit)
                    out.append(self._event(now, "Periodic", str(rssi), "CustomMonitor", monitor=m.id))
            elif kind == "Delta":
                if m.last is None or abs(rssi - m.last) >= limit:
                    m.last = rssi
                    out.append(self._event(now, "Delta", str(rssi), "CustomMonitor", monitor=m.id))
            else:
                beyond = rssi < limit if kind == "LowerThreshold" else rssi > limit
                if beyond != m.active:
                    m.active = beyond
                    out.append(self._event(now, "Alerting", str(rssi), "CustomMonitor", monitor=m.id,
                                           cleared=not beyond))  # fmt: skip
        return out

    def _event(
        self,
        now: float,
        trigger: str,
        value: str,
        kind: str,
        *,
        cleared: bool | None = None,
        monitor: int | None = None,
    ) -> Payload:
        self._event_id += 1
        event: Payload = {
            "eventId": self._event_id,
            "timestamp": self.fw.now_iso(now),
            "trigger": trigger,
            "actualValue": value,
            "eventNotificationType": kind,
            "component": {"name": "DataLink"},
            "variable": {"name": "SignalStrength"},
        }
        if cleared is not None:
            event["cleared"] = cleared
        if monitor is not None:
            event["variableMonitoringId"] = monitor
        return event

    def security_event(self, kind: str, tech_info: str, at: float) -> tuple[str, Payload]:
        return "SecurityEventNotification", {"type": kind[:50], "timestamp": self.fw.now_iso(at),
                                             "techInfo": tech_info[:255]}  # fmt: skip

    def firmware_status(self, status: str, request_id: int | None) -> tuple[str, Payload] | None:
        payload: Payload = {"status": status}
        if request_id is not None:
            payload["requestId"] = request_id
        return "FirmwareStatusNotification", payload

    def log_status(self, status: str, request_id: int | None, kind: str) -> tuple[str, Payload]:
        payload: Payload = {"status": {"UploadFailed": "UploadFailure"}.get(status, status)}
        if request_id is not None:
            payload["requestId"] = request_id
        return "LogStatusNotification", payload

    # ------------------------------------------------------------ calls the CSMS makes
    def request_start(self, p: Payload, now: float) -> Reply:
        fw = self.fw
        c = fw.station.find_connector(p.get("evseId"))
        profile = None
        if "chargingProfile" in p and c is not None:
            try:
                profile = from_v201(p["chargingProfile"], c.id, now)
            except ProfileError:
                return Reply(payload={"status": "Rejected"})
        if c is None or not fw.station.remote_start(c, p["idToken"]["idToken"], p["remoteStartId"], profile):
            return Reply(payload={"status": "Rejected"})
        return Reply(payload={"status": "Accepted"}, after=fw.station.after_remote_start(c))

    def request_stop(self, p: Payload, now: float) -> Reply:
        c = self.fw.station.transaction(p["transactionId"])
        if c is None:
            return Reply(payload={"status": "Rejected"})
        return Reply(payload={"status": "Accepted"}, after=lambda t: self.fw.station.stop(c, t, "Remote", "RemoteStop"))

    def reset(self, p: Payload, now: float) -> Reply:
        if p.get("evseId"):
            return Reply(payload={"status": "Rejected"})
        status = self.fw.reset(now, reason="RemoteReset", stop_reason="ImmediateReset", on_idle=p["type"] == "OnIdle")
        return Reply(payload={"status": status}, after=self.fw.after_reset() if status == "Accepted" else None)

    def change_availability(self, p: Payload, now: float) -> Reply:
        evse = p.get("evse", {}).get("id", 0)
        if not 0 <= evse <= len(self.fw.station.connectors):
            return Reply(payload={"status": "Rejected"})
        status = self.fw.station.change_availability(evse, p["operationalStatus"] == "Operative", now)
        return Reply(payload={"status": status})

    def _lookup(self, component: Payload, variable: Payload) -> tuple[Setting | None, str]:
        key = (component["name"], variable["name"], variable.get("instance"))
        found = BY_VARIABLE.get(key)
        if found is not None:
            return found, "Accepted"
        known = any(s.component == component["name"] for s in SETTINGS)
        return None, "UnknownVariable" if known else "UnknownComponent"

    def get_variables(self, p: Payload, now: float) -> Reply:
        results = []
        for item in p["getVariableData"]:
            setting, status = self._lookup(item["component"], item["variable"])
            attribute = item.get("attributeType", "Actual")
            row: Payload = {"component": item["component"], "variable": item["variable"], "attributeType": attribute}
            if setting is not None and attribute != "Actual":
                status = "NotSupportedAttributeType"
            row["attributeStatus"] = status
            if status == "Accepted" and setting is not None:
                row["attributeValue"] = self.fw.settings.get(setting.name)[:2500]
            results.append(row)
        return Reply(payload={"getVariableResult": results})

    def set_variables(self, p: Payload, now: float) -> Reply:
        results = []
        for item in p["setVariableData"]:
            setting, status = self._lookup(item["component"], item["variable"])
            if setting is not None:
                status = self.fw.settings.change(setting, item["attributeValue"])
            results.append({"attributeType": item.get("attributeType", "Actual"), "attributeStatus": status,
                            "component": item["component"], "variable": item["variable"]})  # fmt: skip
        return Reply(payload={"setVariableResult": results})

    def get_base_report(self, p: Payload, now: float) -> Reply:
        request_id = p["requestId"]

        def report(t: float) -> None:
            rows = [self._report_row(s) for s in SETTINGS if s.component is not None]
            self.fw.send("NotifyReport", {"requestId": request_id, "generatedAt": self.fw.now_iso(t), "tbc": False,
                                          "seqNo": 0, "reportData": rows}, t)  # fmt: skip

        return Reply(payload={"status": "Accepted"}, after=report)

    def _report_row(self, s: Setting) -> Payload:
        assert s.component is not None and s.variable is not None
        variable: Payload = {"name": s.variable}
        if s.instance:
            variable["instance"] = s.instance
        characteristics: Payload = {
            "dataType": _DATA_TYPES[s.kind],
            "supportsMonitoring": (s.component, s.variable, s.instance) == _SIGNAL,
        }
        if (s.component, s.variable, s.instance) == _SIGNAL:
            characteristics["dataType"] = "decimal"
            characteristics["unit"] = "dBm"
        attribute = {"type": "Actual", "value": self.fw.settings.get(s.name)[:2500],
                     "mutability": "ReadOnly" if s.readonly else "ReadWrite"}  # fmt: skip
        return {"component": {"name": s.component}, "variable": variable, "variableAttribute": [attribute],
                "variableCharacteristics": characteristics}  # fmt: skip

    def trigger_message(self, p: Payload, now: float) -> Reply:
        fw, what = self.fw, p["requestedMessage"]
        if what == "BootNotification" and fw.registered:
            return Reply(payload={"status": "Rejected"})  # F06.FR.17
        action = fw.trigger(what, p.get("evse", {}).get("id"))
        if action is None:
            return Reply(payload={"status": "NotImplemented"})
        return Reply(payload={"status": "Accepted"}, after=action)

    def unlock_connector(self, p: Payload, now: float) -> Reply:
        evse = p["evseId"]
        if not 0 < evse <= len(self.fw.station.connectors) or p["connectorId"] != 1:
            return Reply(payload={"status": "UnknownConnector"})
        c = self.fw.station.connectors[evse - 1]
        if c.tx is not None:
            return Reply(payload={"status": "OngoingAuthorizedTransaction"})
        return Reply(payload={"status": self.fw.station.unlock(c, now)})

    def set_charging_profile(self, p: Payload, now: float) -> Reply:
        try:
            profile = from_v201(p["chargingProfile"], p["evseId"], now)
        except ProfileError as exc:
            self.fw.note(now, f"profile rejected: {exc}")
            return Reply(payload={"status": "Rejected"})
        return Reply(payload={"status": self.fw.station.set_profile(profile, now)})

    def clear_charging_profile(self, p: Payload, now: float) -> Reply:
        criteria = p.get("chargingProfileCriteria", {})
        purpose = _PURPOSES.get(criteria["chargingProfilePurpose"]) if "chargingProfilePurpose" in criteria else None
        removed = self.fw.station.clear_profiles(
            now,
            profile_id=p.get("chargingProfileId"),
            evse_id=criteria.get("evseId"),
            purpose=purpose,
            stack_level=criteria.get("stackLevel"),
        )
        return Reply(payload={"status": "Accepted" if removed else "Unknown"})

    def get_composite_schedule(self, p: Payload, now: float) -> Reply:
        evse, fw = p["evseId"], self.fw
        unit = p.get("chargingRateUnit") or fw.template.quirks.rate_units[0]
        if not 0 <= evse <= len(fw.station.connectors) or unit not in fw.template.quirks.rate_units:
            return Reply(payload={"status": "Rejected"})
        start = float(int(now))
        periods = fw.station.composite(evse, start, p["duration"], unit)
        schedule = {
            "evseId": evse,
            "duration": p["duration"],
            "scheduleStart": fw.now_iso(start),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [
                {"startPeriod": x.start, "limit": x.limit, "numberPhases": x.phases} for x in periods
            ],
        }
        return Reply(payload={"status": "Accepted", "schedule": schedule})

    def update_firmware(self, p: Payload, now: float) -> Reply:
        firmware = p["firmware"]
        signed = (firmware["signingCertificate"], firmware["signature"]) if "signature" in firmware else None
        self.fw.update_firmware(firmware["location"], parse_iso(firmware["retrieveDateTime"]), p.get("retries", 1),
                                p.get("retryInterval", 30), p["requestId"], signed)  # fmt: skip
        return Reply(payload={"status": "Accepted"})

    def get_log(self, p: Payload, now: float) -> Reply:
        kind = "security" if p["logType"] == "SecurityLog" else "log"
        name = self.fw.upload_log(p["log"]["remoteLocation"], p["requestId"], p.get("retries", 1),
                                  p.get("retryInterval", 30), kind, now)  # fmt: skip
        return Reply(payload={"status": "Accepted", "filename": name[:255]})

    def set_variable_monitoring(self, p: Payload, now: float) -> Reply:
        results = []
        for item in p["setMonitoringData"]:
            component, variable = item["component"], item["variable"]
            row: Payload = {"type": item["type"], "severity": item["severity"], "component": component,
                            "variable": variable}  # fmt: skip
            key = (component["name"], variable["name"], variable.get("instance"))
            if key != _SIGNAL:
                _, status = self._lookup(component, variable)
                row["status"] = "Rejected" if status == "Accepted" else status
            elif item["type"] not in _MONITOR_TYPES:
                row["status"] = "UnsupportedMonitorType"
            else:
                monitor_id = item.get("id") or (max((m.id for m in self._monitors), default=0) + 1)
                self._monitors = [m for m in self._monitors if m.id != monitor_id]
                self._monitors.append(Monitor(id=monitor_id, type=item["type"], value=float(item["value"]), next=now))
                row["status"], row["id"] = "Accepted", monitor_id
            results.append(row)
        return Reply(payload={"setMonitoringResult": results})

    def clear_variable_monitoring(self, p: Payload, now: float) -> Reply:
        results = []
        for monitor_id in p["id"]:
            found = any(m.id == monitor_id for m in self._monitors)
            self._monitors = [m for m in self._monitors if m.id != monitor_id]
            results.append({"status": "Accepted" if found else "NotFound", "id": monitor_id})
        return Reply(payload={"clearMonitoringResult": results})

    def get_transaction_status(self, p: Payload, now: float) -> Reply:
        tx_id = p.get("transactionId")
        queued = [q for q in self.fw.outbox if tx_id is None or q.payload["transactionInfo"]["transactionId"] == tx_id]
        payload: Payload = {"messagesInQueue": bool(queued)}
        if tx_id is not None:
            payload["ongoingIndicator"] = self.fw.station.transaction(tx_id) is not None
        return Reply(payload=payload)

    def data_transfer_unknown(self, p: Payload, now: float) -> Reply:
        return Reply(payload={"status": "UnknownVendorId"})


def _sampled(s: Sample, context: str) -> dict[str, Any]:
    row: dict[str, Any] = {"value": s.value, "context": context, "measurand": s.measurand,
                           "unitOfMeasure": {"unit": s.unit}, "location": s.location}  # fmt: skip
    if s.phase is not None:
        row["phase"] = s.phase
    return row


# The route table: every CSMS call this dialect answers (the same set as ``Dialect201.supported``).
ROUTES: dict[str, Callable[[Dialect201, Payload, float], Reply]] = {
    "RequestStartTransaction": Dialect201.request_start,
    "RequestStopTransaction": Dialect201.request_stop,
    "Reset": Dialect201.reset,
    "ChangeAvailability": Dialect201.change_availability,
    "GetVariables": Dialect201.get_variables,
    "SetVariables": Dialect201.set_variables,
    "GetBaseReport": Dialect201.get_base_report,
    "TriggerMessage": Dialect201.trigger_message,
    "UnlockConnector": Dialect201.unlock_connector,
    "SetChargingProfile": Dialect201.set_charging_profile,
    "ClearChargingProfile": Dialect201.clear_charging_profile,
    "GetCompositeSchedule": Dialect201.get_composite_schedule,
    "UpdateFirmware": Dialect201.update_firmware,
    "GetLog": Dialect201.get_log,
    "SetVariableMonitoring": Dialect201.set_variable_monitoring,
    "ClearVariableMonitoring": Dialect201.clear_variable_monitoring,
    "GetTransactionStatus": Dialect201.get_transaction_status,
    "DataTransfer": Dialect201.data_transfer_unknown,
    "ClearCache": auth_calls.clear_cache,
    "SendLocalList": auth_calls.send_local_list,
    "GetLocalListVersion": auth_calls.get_local_list_version,
    "ReserveNow": auth_calls.reserve_now,
    "CancelReservation": auth_calls.cancel_reservation,
}
# password, network profiles, certificates
ROUTES.update(credential_calls.routes_201(Dialect201.set_variables, Dialect201.trigger_message))
Dialect201.supported = frozenset(ROUTES)
