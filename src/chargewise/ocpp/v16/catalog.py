"""OCPP 1.6J action catalog: which actions exist, in which direction, and where their schemas live."""

from __future__ import annotations

from pathlib import Path

import ocpp

from chargewise.domain.model import OcppVersion

VERSION = OcppVersion.V16
SCHEMA_DIR = Path(ocpp.__file__).parent / "v16" / "schemas"

# Core profile plus the Security Whitepaper extensions, charger -> central system.
CHARGER_ACTIONS = frozenset(
    {
        "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
        "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction", "StatusNotification",
        "StopTransaction", "SecurityEventNotification", "SignCertificate", "LogStatusNotification",
        "SignedFirmwareStatusNotification",
    }
)  # fmt: skip
# Central system -> charger.
CSMS_ACTIONS = frozenset(
    {
        "CancelReservation", "CertificateSigned", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
        "ClearChargingProfile", "DataTransfer", "DeleteCertificate", "ExtendedTriggerMessage",
        "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetInstalledCertificateIds",
        "GetLocalListVersion", "GetLog", "InstallCertificate", "RemoteStartTransaction",
        "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
        "SignedUpdateFirmware", "TriggerMessage", "UnlockConnector", "UpdateFirmware",
    }
)  # fmt: skip


def request_schema(action: str) -> Path:
    return SCHEMA_DIR / f"{action}.json"


def response_schema(action: str) -> Path:
    return SCHEMA_DIR / f"{action}Response.json"
