"""OCPP 2.0.1 action catalog: which actions exist, in which direction, and where their schemas live."""

from __future__ import annotations

from pathlib import Path

import ocpp

from chargewise.domain.model import OcppVersion

VERSION = OcppVersion.V201
SCHEMA_DIR = Path(ocpp.__file__).parent / "v201" / "schemas"

# Charging station -> CSMS.
CHARGER_ACTIONS = frozenset(
    {
        "Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer", "FirmwareStatusNotification",
        "Get15118EVCertificate", "GetCertificateStatus", "Heartbeat", "LogStatusNotification", "MeterValues",
        "NotifyChargingLimit", "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
        "PublishFirmwareStatusNotification", "ReportChargingProfiles", "ReservationStatusUpdate",
        "SecurityEventNotification", "SignCertificate", "StatusNotification", "TransactionEvent",
    }
)  # fmt: skip
# CSMS -> charging station.
CSMS_ACTIONS = frozenset(
    {
        "CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache", "ClearChargingProfile",
        "ClearDisplayMessage", "ClearVariableMonitoring", "CostUpdated", "CustomerInformation", "DataTransfer",
        "DeleteCertificate", "GetBaseReport", "GetChargingProfiles", "GetCompositeSchedule",
        "GetDisplayMessages", "GetInstalledCertificateIds", "GetLocalListVersion", "GetLog",
        "GetMonitoringReport", "GetReport", "GetTransactionStatus", "GetVariables", "InstallCertificate",
        "PublishFirmware", "RequestStartTransaction", "RequestStopTransaction", "ReserveNow", "Reset",
        "SendLocalList", "SetChargingProfile", "SetDisplayMessage", "SetMonitoringBase", "SetMonitoringLevel",
        "SetNetworkProfile", "SetVariableMonitoring", "SetVariables", "TriggerMessage", "UnlockConnector",
        "UnpublishFirmware", "UpdateFirmware",
    }
)  # fmt: skip


def request_schema(action: str) -> Path:
    return SCHEMA_DIR / f"{action}Request.json"


def response_schema(action: str) -> Path:
    return SCHEMA_DIR / f"{action}Response.json"
