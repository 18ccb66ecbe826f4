"""Charger templates: what a simulated charger is (hardware, firmware defaults, radio, quirks), as data files.

Each ``templates/<name>.json`` decodes into a :class:`Template`; unknown fields are refused so a typo in a
data file fails loudly. Facts that come from public sources are in ``note``; everything else is a modelled
default chosen to exercise a CSMS (the note says which). Quirks change behaviour, never message validity:
every payload the simulator sends passes the official schema.

============================  ======================================================================
quirk                          effect
============================  ======================================================================
profile_purposes               SetChargingProfile of any other purpose is Rejected (``max``,
                               ``tx-default``, ``tx``; e.g. ``["tx-default"]``: accepts only TxDefault)
rate_units                     ``["A"]``: amps only; a W schedule is Rejected
max_stack_level                a higher stackLevel is Rejected (also ChargeProfileMaxStackLevel)
max_periods                    more periods per schedule are Rejected (ChargingScheduleMaxPeriods)
answer_delay_s                 every answer to the CSMS is sent this many (simulated) seconds late
answers_pings                  false: WebSocket pings from the server are never answered
reconnects_after_close         false: after the server closes the WebSocket cleanly, never reconnect
boot_on_reconnect              true: send BootNotification on every new connection, not only after boot
offline_limit_a                current limit applied while offline longer than ``offline_after_s``
reports_soc                    true: MeterValues carry SoC (needs vehicle data, e.g. ISO 15118)
============================  ======================================================================
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import msgspec

PURPOSES = frozenset({"max", "tx-default", "tx"})


class Radio(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The charger's network interface and how it was provisioned."""

    interface: str = "Wireless0"  # OCPP 2.0.1 ocppInterface
    bands_ghz: tuple[float, ...] = (2.4,)
    chip: str = "ESP32"
    tx_power_dbm: float = 20.0
    enclosure_loss_db: float = 4.0  # antenna and enclosure, connectivity.md 1.1 (assumption: 3-6 dB)
    ap_selection: str = "first-found"  # ESP32 WIFI_FAST_SCAN default; or "strongest"
    wpa3_transition_ok: bool = False  # joins a WPA2/WPA3 transition-mode SSID
    provisioning: str = ""
    cloud_domains: tuple[str, ...] = ()


class Keepalive(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Timers in (simulated) seconds; the CSMS can change most of them through configuration."""

    heartbeat_interval_s: int = 300
    websocket_ping_interval_s: int = 0  # 0: the charger does not ping (the server may)
    meter_interval_s: int = 60
    rssi_report_interval_s: int = 300
    call_timeout_s: float = 30.0
    boot_retry_s: int = 60  # used when the CSMS answers Pending/Rejected with interval 0
    retry_backoff_wait_minimum_s: int = 3
    retry_backoff_random_range_s: int = 10
    retry_backoff_repeat_times: int = 5
    transaction_message_attempts: int = 3
    transaction_message_retry_interval_s: int = 20


class Quirks(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    profile_purposes: tuple[str, ...] = ("max", "tx-default", "tx")
    rate_units: tuple[str, ...] = ("A", "W")
    max_stack_level: int = 8
    max_periods: int = 24
    answer_delay_s: float = 0.0
    answers_pings: bool = True
    reconnects_after_close: bool = True
    boot_on_reconnect: bool = False
    offline_limit_a: float | None = None
    offline_after_s: int = 600
    reports_soc: bool = False


class Ota(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How this model takes a firmware update (``ota.py``), in simulated seconds."""

    download_s: float = 0.0  # from Downloading to the image fetched
    install_s: float = 20.0  # from Installing to the reboot (or to InstallationFailed)
    fails: str = ""  # "", download, signature, install, boot-loop (see ota.py)


class Template(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One charger model. ``max_current_a`` is per phase; power = current x voltage x phases."""

    name: str
    vendor: str
    model: str
    note: str = ""
    connectors: int = 1
    phases: int = 1
    voltage_v: float = 240.0
    max_current_a: float = 32.0
    firmware_version: str = "1.0.0"
    serial_prefix: str = "SIM"
    security_profile: int = 1  # 0: none, 1: Basic auth over ws, 2: Basic auth over wss, 3: client certificate
    password: str | None = None  # Basic auth password (username is the charger id)
    boot_time_s: float = 8.0  # power-on to first connection attempt
    offline_queue_limit: int = 200  # transaction messages kept while offline (see outbox.py)
    radio: Radio = Radio()
    keepalive: Keepalive = Keepalive()
    quirks: Quirks = Quirks()
    ota: Ota = Ota()

    def __post_init__(self) -> None:
        unknown = set(self.quirks.profile_purposes) - PURPOSES
        if unknown:
            raise ValueError(f"template {self.name}: unknown profile purposes {sorted(unknown)}")
        if self.ota.fails not in ("", "download", "signature", "install", "boot-loop"):
            raise ValueError(f"template {self.name}: ota.fails must be download, signature, install or boot-loop")
        if not 1 <= self.phases <= 3 or self.connectors < 1:
            raise ValueError(f"template {self.name}: phases must be 1-3 and connectors at least 1")


class TemplateError(ValueError):
    """A template name or file is wrong; the message says which names exist."""


def template_names() -> list[str]:
    """Names of the shipped templates (file names without ``.json``)."""
    folder = resources.files("chargewise.simulator") / "templates"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


@cache
def load_template(name: str) -> Template:
    """The shipped template ``name``; raise :class:`TemplateError` naming the valid ones."""
    if name not in template_names():
        raise TemplateError(f"unknown template {name!r}; choose one of {', '.join(template_names())}")
    data = (resources.files("chargewise.simulator") / "templates" / f"{name}.json").read_bytes()
    try:
        return msgspec.json.decode(data, type=Template)
    except (msgspec.ValidationError, ValueError) as exc:
        raise TemplateError(f"template {name}: {exc}") from None
