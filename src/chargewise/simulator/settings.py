"""Configuration: the charger's settings under both names, the 1.6 configuration key and the 2.0.1
device-model component/variable, in one table. Values are strings (as both versions carry them).

``key`` None: 2.0.1 only; ``component`` None: 1.6 only. ``RssiReportInterval`` is our vendor key (1.6) for
how often the vendor DataTransfer with RSSI/BSSID is sent; in 2.0.1 ``DataLink.SignalStrength`` is read with
GetVariables or watched with SetVariableMonitoring instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from chargewise.simulator.templates import Template


@dataclass(frozen=True, kw_only=True, slots=True)
class Setting:
    name: str  # internal name
    key: str | None  # OCPP 1.6 configuration key
    component: str | None  # OCPP 2.0.1 component
    variable: str | None = None
    instance: str | None = None
    kind: str = "int"  # int, bool, str, csv
    readonly: bool = False
    minimum: int = 0


def _s(
    name: str,
    key: str | None,
    component: str | None,
    variable: str | None = None,
    *,
    instance: str | None = None,
    kind: str = "int",
    readonly: bool = False,
    minimum: int = 0,
) -> Setting:
    return Setting(
        name=name,
        key=key,
        component=component,
        variable=variable or key or name,
        instance=instance,
        kind=kind,
        readonly=readonly,
        minimum=minimum,
    )


SETTINGS: tuple[Setting, ...] = (
    _s("heartbeat_interval", "HeartbeatInterval", "OCPPCommCtrlr"),
    _s("meter_interval", "MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval"),
    _s("meter_measurands", "MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", kind="csv"),
    _s("ws_ping_interval", "WebSocketPingInterval", "OCPPCommCtrlr"),
    _s("connection_timeout", "ConnectionTimeOut", "TxCtrlr", "EVConnectionTimeOut"),
    _s("tx_attempts", "TransactionMessageAttempts", "OCPPCommCtrlr", "MessageAttempts", instance="TransactionEvent",
       minimum=1),
    _s("tx_retry_interval", "TransactionMessageRetryInterval", "OCPPCommCtrlr", "MessageAttemptInterval",
       instance="TransactionEvent"),
    _s("number_of_connectors", "NumberOfConnectors", None, readonly=True),
    _s("authorize_remote", "AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart", kind="bool"),
    _s("local_pre_authorize", "LocalPreAuthorize", "AuthCtrlr", "LocalPreAuthorize", kind="bool", readonly=True),
    _s("stop_on_ev_disconnect", "StopTransactionOnEVSideDisconnect", "TxCtrlr", "StopTxOnEVSideDisconnect",
       kind="bool", readonly=True),
    _s("tx_start_point", None, "TxCtrlr", "TxStartPoint", kind="csv", readonly=True),
    _s("tx_stop_point", None, "TxCtrlr", "TxStopPoint", kind="csv", readonly=True),
    _s("max_stack_level", "ChargeProfileMaxStackLevel", "SmartChargingCtrlr", "ProfileStackLevel", readonly=True),
    _s("rate_units", "ChargingScheduleAllowedChargingRateUnit", "SmartChargingCtrlr", "RateUnit", kind="csv",
       readonly=True),
    _s("max_periods", "ChargingScheduleMaxPeriods", "SmartChargingCtrlr", "PeriodsPerSchedule", readonly=True),
    _s("max_profiles", "MaxChargingProfilesInstalled", "SmartChargingCtrlr", "Entries", instance="ChargingProfiles",
       readonly=True),
    _s("feature_profiles", "SupportedFeatureProfiles", None, kind="csv", readonly=True),
    _s("reset_retries", "ResetRetries", "OCPPCommCtrlr"),
    _s("backoff_minimum", None, "OCPPCommCtrlr", "RetryBackOffWaitMinimum"),
    _s("backoff_random", None, "OCPPCommCtrlr", "RetryBackOffRandomRange"),
    _s("backoff_repeat", None, "OCPPCommCtrlr", "RetryBackOffRepeatTimes"),
    _s("offline_threshold", None, "OCPPCommCtrlr", "OfflineThreshold"),
    _s("rssi_interval", "RssiReportInterval", None),
    _s("signal_strength", None, "DataLink", "SignalStrength", kind="str", readonly=True),
    _s("security_profile", None, "SecurityCtrlr", "SecurityProfile", readonly=True),
    _s("vendor", None, "ChargingStation", "VendorName", kind="str", readonly=True),
    _s("model", None, "ChargingStation", "Model", kind="str", readonly=True),
    _s("firmware_version", None, "ChargingStation", "FirmwareVersion", kind="str", readonly=True),
    # local authorization list, cache, offline authorization (``local_auth.py``)
    _s("local_list_enabled", "LocalAuthListEnabled", "LocalAuthListCtrlr", "Enabled", kind="bool"),
    _s("local_list_max", "LocalAuthListMaxLength", None, readonly=True),
    _s("local_list_per_message", "SendLocalListMaxLength", "LocalAuthListCtrlr", "ItemsPerMessage", readonly=True),
    _s("offline_authorize", "LocalAuthorizeOffline", "AuthCtrlr", "LocalAuthorizeOffline", kind="bool"),
    _s("offline_unknown", "AllowOfflineTxForUnknownId", "AuthCtrlr", "OfflineTxForUnknownIdEnabled", kind="bool"),
    _s("cache_enabled", "AuthorizationCacheEnabled", "AuthCacheCtrlr", "Enabled", kind="bool"),
)  # fmt: skip
BY_NAME = {s.name: s for s in SETTINGS}
BY_KEY = {s.key.lower(): s for s in SETTINGS if s.key}
BY_VARIABLE = {(s.component, s.variable, s.instance): s for s in SETTINGS if s.component}
MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "Current.Offered",
    "SoC",
)


def defaults(t: Template) -> dict[str, str]:
    """Initial values from the template."""
    k, q = t.keepalive, t.quirks
    measurands = [m for m in MEASURANDS if m != "SoC" or q.reports_soc]
    return {
        "heartbeat_interval": str(k.heartbeat_interval_s),
        "meter_interval": str(k.meter_interval_s),
        "meter_measurands": ",".join(measurands),
        "ws_ping_interval": str(k.websocket_ping_interval_s),
        "connection_timeout": "120",
        "tx_attempts": str(k.transaction_message_attempts),
        "tx_retry_interval": str(k.transaction_message_retry_interval_s),
        "number_of_connectors": str(t.connectors),
        "authorize_remote": "false",
        "local_pre_authorize": "false",
        "stop_on_ev_disconnect": "true",
        "tx_start_point": "PowerPathClosed",
        "tx_stop_point": "EVConnected,Authorized",
        "max_stack_level": str(q.max_stack_level),
        "rate_units": ",".join("Current" if u == "A" else "Power" for u in q.rate_units),
        "max_periods": str(q.max_periods),
        "max_profiles": "16",
        "feature_profiles": "Core,FirmwareManagement,RemoteTrigger,SmartCharging",
        "reset_retries": "1",
        "backoff_minimum": str(k.retry_backoff_wait_minimum_s),
        "backoff_random": str(k.retry_backoff_random_range_s),
        "backoff_repeat": str(k.retry_backoff_repeat_times),
        "offline_threshold": "60",
        "rssi_interval": str(k.rssi_report_interval_s),
        "signal_strength": "",
        "security_profile": str(t.security_profile),
        "vendor": t.vendor,
        "model": t.model,
        "firmware_version": t.firmware_version,
        "local_list_enabled": "true",
        "local_list_max": "1000",
        "local_list_per_message": "100",
        "offline_authorize": "true",
        "offline_unknown": "true",  # as before local lists: an unknown token is accepted offline
        "cache_enabled": "true",
    }


class Settings:
    """The charger's current configuration: the template's defaults (shared by every charger of the template)
    plus this charger's changes. Read typed values with :meth:`int` / :meth:`flag`."""

    __slots__ = ("_changed", "_defaults")

    def __init__(self, template: Template) -> None:
        self._defaults = _defaults_for(template)
        self._changed: dict[str, str] = {}

    def get(self, name: str) -> str:
        return self._changed[name] if name in self._changed else self._defaults[name]

    def int(self, name: str) -> int:
        return int(self.get(name))

    def flag(self, name: str) -> bool:
        return self.get(name).lower() == "true"

    def set(self, name: str, value: str) -> None:
        """Set a value the firmware itself owns (read-only to the CSMS), e.g. the signal strength."""
        self._changed[name] = value

    def change(self, setting: Setting, value: str) -> str:
        """The CSMS sets ``setting`` to ``value``: "Accepted", or "Rejected" (read-only or not a valid value)."""
        if setting.readonly:
            return "Rejected"
        normalised = _normalise(setting, value)
        if normalised is None:
            return "Rejected"
        self._changed[setting.name] = normalised
        return "Accepted"


@functools.cache
def _defaults_for(template: Template) -> dict[str, str]:
    return defaults(template)


def _normalise(setting: Setting, value: str) -> str | None:
    if setting.kind == "int":
        try:
            number = int(value.strip())
        except ValueError:
            return None
        return str(number) if number >= setting.minimum else None
    if setting.kind == "bool":
        return value.strip().lower() if value.strip().lower() in ("true", "false") else None
    if setting.kind == "csv" and setting.name == "meter_measurands":
        items = [v.strip() for v in value.split(",") if v.strip()]
        return ",".join(items) if all(i in MEASURANDS for i in items) else None
    return value
