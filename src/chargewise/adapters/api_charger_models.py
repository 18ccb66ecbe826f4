"""REST models of a charger's configuration (read and written through the charger) and of the CSV files (id
tokens in and out, transactions for billing), with their routes for the OpenAPI document
(``http_configuration``, ``http_exports``)."""

from __future__ import annotations

from typing import Any

import msgspec

from chargewise.adapters.openapi_parts import TIME, Extra, param
from chargewise.services.configuration import Setting


class SettingView(msgspec.Struct, kw_only=True):
    """``status``: Accepted for a value read or a change taken; else the charger's answer (Rejected,
    RebootRequired, NotSupported, UnknownVariable, Unknown ...)."""

    key: str
    value: str | None
    readonly: bool | None
    status: str


class ConfigurationView(msgspec.Struct, kw_only=True):
    charger_id: str
    ocpp_version: str
    settings: list[SettingView]


class ConfigurationChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """1.6 keys (``HeartbeatInterval``) or 2.0.1 ``Component.Variable[Instance]`` with their new values."""

    values: dict[str, str]


class ImportView(msgspec.Struct, kw_only=True):
    imported: int


def settings_view(charger_id: str, version: str, settings: list[Setting]) -> ConfigurationView:
    return ConfigurationView(charger_id=charger_id, ocpp_version=version,
                             settings=[SettingView(key=s.key, value=s.value, readonly=s.readonly, status=s.status)
                                       for s in settings])  # fmt: skip


CALLED = {404: "no such charger", 409: "charger offline or not accepted", 502: "the charger answered a CallError",
          504: "the charger did not answer"}  # fmt: skip
ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/chargers/{id}/configuration", "get", "Read the charger's configuration through it: 1.6 keys "
     "(GetConfiguration; all when none named) or 2.0.1 variables (GetVariables; ?key=Component.Variable)", None,
     ConfigurationView, CALLED),
    ("/api/v1/chargers/{id}/configuration", "put", "Change configuration keys or variables through the charger "
     "(ChangeConfiguration / SetVariables); each with the charger's status", ConfigurationChange, ConfigurationView,
     CALLED),
    ("/api/v1/tokens.csv", "get", "Every id token as CSV (id_tag,status,expires_at,parent_id_tag)", None, str, {}),
    ("/api/v1/tokens.csv", "post", "Import id tokens from CSV (same columns; every row is checked before any is "
     "written)", str, ImportView, {}),
    ("/api/v1/transactions.csv", "get", "Transactions as CSV for billing (energy in kWh, times UTC), newest first, "
     "with the listing's filters", None, str, {}),
]  # fmt: skip
TRANSACTION_FILTERS = [
    param("charger_id", "only this charger's"),
    param("active", "true: still charging; false: ended", {"type": "string", "enum": ["true", "false"]}),
    param("id_tag", "only those started with this id token"),
    param("site", "only those of the chargers of this site (serve --site)"),
    param("since", "started at or after this time (ISO 8601 with an offset)", TIME),
    param("until", "started before this time (ISO 8601 with an offset)", TIME),
]
EXTRAS = {
    ("get", "/api/v1/chargers/{id}/configuration"): Extra(
        query=[param("key", "a key to read (repeatable)", array=True)]
    ),
    ("get", "/api/v1/tokens.csv"): Extra(csv_out=True),
    ("post", "/api/v1/tokens.csv"): Extra(csv_in=True),
    ("get", "/api/v1/transactions.csv"): Extra(csv_out=True, query=TRANSACTION_FILTERS),
}
