"""Valid requests for the 2.0.1 report handlers, shared by their tests and the end-to-end test."""

from __future__ import annotations

from typing import Any

AT = "2026-12-01T12:00:00Z"
SCHEDULE: dict[str, Any] = {
    "id": 3, "chargingRateUnit": "W", "startSchedule": AT, "duration": 3600, "minChargingRate": 1200.0,
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
                               {"startPeriod": 1800, "limit": 3680.5, "numberPhases": 1, "phaseToUse": 2}],
}  # fmt: skip
PROFILE: dict[str, Any] = {
    "id": 7, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
    "validFrom": AT, "validTo": "2026-12-31T00:00:00Z", "chargingSchedule": [SCHEDULE],
}  # fmt: skip
MONITOR: dict[str, Any] = {
    "component": {"name": "EVSE", "instance": "main", "evse": {"id": 1}}, "variable": {"name": "Power"},
    "variableMonitoring": [{"id": 4, "transaction": False, "value": 22000.0, "type": "UpperThreshold", "severity": 7},
                           {"id": 5, "transaction": True, "value": 10.0, "type": "Delta", "severity": 9}],
}  # fmt: skip
MESSAGE: dict[str, Any] = {"id": 2, "priority": "InFront", "state": "Idle", "startDateTime": AT,
                           "message": {"format": "UTF8", "language": "en", "content": "Welcome"}}  # fmt: skip

#: one valid request per action, in the order of the route table
REQUESTS: dict[str, dict[str, Any]] = {
    "ReportChargingProfiles": {"requestId": 11, "chargingLimitSource": "CSO", "tbc": False, "evseId": 1,
                               "chargingProfile": [PROFILE]},
    "NotifyChargingLimit": {"evseId": 1, "chargingLimit": {"chargingLimitSource": "SO", "isGridCritical": True},
                            "chargingSchedule": [SCHEDULE]},
    "ClearedChargingLimit": {"chargingLimitSource": "SO", "evseId": 1},
    "NotifyEVChargingNeeds": {"evseId": 1, "maxScheduleTuples": 12, "chargingNeeds": {
        "requestedEnergyTransfer": "AC_three_phase", "departureTime": "2026-12-01T18:00:00Z",
        "acChargingParameters": {"energyAmount": 30000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400}}},
    "NotifyEVChargingSchedule": {"timeBase": AT, "evseId": 1, "chargingSchedule": SCHEDULE},
    "NotifyMonitoringReport": {"requestId": 12, "seqNo": 0, "tbc": False, "generatedAt": AT, "monitor": [MONITOR]},
    "NotifyCustomerInformation": {"data": "idToken 04A1B2C3: 3 sessions", "tbc": False, "seqNo": 0,
                                  "generatedAt": AT, "requestId": 13},
    "NotifyDisplayMessages": {"requestId": 14, "tbc": False, "messageInfo": [MESSAGE]},
    "PublishFirmwareStatusNotification": {"status": "Published", "requestId": 15,
                                          "location": ["http://lc.local/fw.bin"]},
    "ReservationStatusUpdate": {"reservationId": 16, "reservationUpdateStatus": "Expired"},
}  # fmt: skip
