"""Charger model profiles: radio bands, WPA3 support, provisioning and the vendor cloud's domains.

Each fact names its source. "seed" is the project's seed document (``shared/seed``); "§" is a section of
``connectivity.md``. Where no public source states a fact, the profile says so (``*_known=False``) and the
audit words its finding as a risk, not a certainty. Add a model by adding a row to ``PROFILES``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from chargewise.doctor.audit.network import Band

TWO_GHZ = frozenset({Band.GHZ_2_4})


class Wpa3(enum.StrEnum):
    SUPPORTED = "supported"  # joins WPA3-SAE and transition SSIDs
    UNRELIABLE = "unreliable"  # joins at first, or on some firmware, then fails (treat as unsupported)
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True, slots=True)
class Profile:
    key: str  # what a site file writes as ``model``
    name: str
    bands: frozenset[Band]
    bands_known: bool  # False: no public source states the bands; 2.4 GHz only is assumed (seed table)
    wpa3: Wpa3
    provisioning: str
    domains: tuple[str, ...]  # vendor cloud domains; each covers its subdomains (*.domain)
    cloud_needed_to_charge: bool = False  # a blocked cloud can stop charging, not only the app
    sources: tuple[str, ...] = ()


PROFILES: dict[str, Profile] = {
    p.key: p
    for p in (
        Profile(
            key="chargepoint-home-flex",
            name="ChargePoint Home Flex",
            bands=TWO_GHZ,
            bands_known=True,
            wpa3=Wpa3.UNSUPPORTED,
            provisioning="its own access point 'ChargePoint_XXX' during setup; the phone joins it and the "
            "ChargePoint app sends the home Wi-Fi credentials (keep the phone on 2.4 GHz while doing so)",
            domains=("chargepoint.com",),
            sources=("seed: ChargePoint Home Flex provisioning, 2.4 GHz, WPA2-AES advice, *.chargepoint.com",),
        ),
        Profile(
            key="enel-x-juicebox",
            name="Enel X JuiceBox",
            bands=TWO_GHZ,
            bands_known=False,
            wpa3=Wpa3.UNSUPPORTED,
            provisioning="the JuiceBox app (method not stated in the sources)",
            domains=("enelx.com", "emotorwerks.com"),
            cloud_needed_to_charge=True,
            sources=(
                "seed: JuiceBox WPA2-AES advice, *.enelx.com",
                "§3 G36: Enel X servers set an offline limit of 0 A (juicepassproxy#69/#88)",
                "juicepassproxy users intercept juicenet-udp-prod*-usa.enelx.com and jbv1.emotorwerks.com",
            ),
        ),
        Profile(
            key="tesla-wall-connector-gen3",
            name="Tesla Wall Connector (Gen 3)",
            bands=TWO_GHZ,
            bands_known=True,
            wpa3=Wpa3.UNRELIABLE,
            provisioning="Bluetooth LE hand-off: the Tesla app passes the Wi-Fi credentials over BLE, then the "
            "unit turns BLE off and joins 2.4 GHz; add its MAC (QR sticker) to any MAC allow list first",
            domains=("tesla.com",),
            sources=(
                "seed: Gen 3 BLE-to-Wi-Fi hand-off, 2.4 GHz, MAC allow list, *.tesla.com",
                "§3 C11: works on WPA3 at first, then stops; fixed by disabling WPA3 (home-assistant/core#137770)",
            ),
        ),
        Profile(
            key="wallbox-pulsar",
            name="Wallbox Pulsar",
            bands=TWO_GHZ,
            bands_known=False,
            wpa3=Wpa3.UNKNOWN,
            provisioning="the Wallbox app (method not stated in the sources)",
            domains=("wall-box.com",),
            sources=(
                "§3 A6, B9: Wi-Fi reception complaints; put the nearest 2.4 GHz on a separate SSID",
                "api.wall-box.com / user-api.wall-box.com: the Wallbox cloud API that public clients call",
            ),
        ),
        Profile(
            key="generic-esp32-ocpp",
            name="Generic ESP32 OCPP charger (MicroOcpp, OpenEVSE, SmartEVSE, go-e class)",
            bands=TWO_GHZ,
            bands_known=True,
            wpa3=Wpa3.UNRELIABLE,
            provisioning="usually its own access point with a web page (OpenEVSE falls back to AP mode, §3 A2)",
            domains=(),
            sources=(
                "§0 item 2: ESP32, ESP32-C3/S3/C61 datasheets list 2412-2484 MHz only",
                "§3 C13, C14, C16: transition mode and forced PMF fail; TKIP/WPA1 refused by ESP-IDF defaults",
            ),
        ),
        Profile(
            key="emporia",
            name="Emporia EV charger",
            bands=TWO_GHZ,
            bands_known=False,
            wpa3=Wpa3.UNKNOWN,
            provisioning="the Emporia app (method not stated in the sources)",
            domains=("emporiaenergy.com",),
            sources=("api.emporiaenergy.com: the Emporia cloud API that public clients (PyEmVue) call",),
        ),
        Profile(
            key="grizzl-e",
            name="United Chargers Grizzl-E Smart",
            bands=TWO_GHZ,
            bands_known=False,
            wpa3=Wpa3.UNKNOWN,
            provisioning="its app or OCPP settings (method not stated in the sources)",
            domains=(),  # the vendor cloud's domain is not in the sources; OCPP users block WAN (§3 G39)
            sources=("§3 G39: lbbrhzn/ocpp#1652, users block WAN egress and run it on local OCPP",),
        ),
    )
}
