"""A site's network as the audit sees it: radios, SSIDs, VLANs, reservations, the DNS sinkhole, the chargers.

Built by :func:`chargewise.doctor.audit.site.build_network` from the site file and the native inputs it names
(OpenWrt, UniFi, blocklists); handed to :func:`chargewise.doctor.audit.rules.audit`. Every value keeps an
:class:`Origin` (file, line, key) so a finding can point at the line to change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from chargewise.doctor.audit.blocklist import Blocklist


class Band(enum.StrEnum):
    """Wi-Fi bands; the value is how the site file writes them."""

    GHZ_2_4 = "2.4"
    GHZ_5 = "5"
    GHZ_6 = "6"


class Security(enum.StrEnum):
    """An SSID's authentication, the way a router's UI names it (connectivity.md §4.3 tables)."""

    OPEN = "open"
    WEP = "wep"
    WPA = "wpa"  # WPA1 only (OpenWrt psk, UniFi wpa_mode wpa1)
    WPA_WPA2 = "wpa-wpa2"  # WPA1+WPA2 mixed (OpenWrt psk-mixed)
    WPA2 = "wpa2"
    WPA2_WPA3_TRANSITION = "wpa2-wpa3-transition"  # OpenWrt sae-mixed, UniFi wpa3_transition
    WPA3 = "wpa3"  # SAE only (OpenWrt sae, UniFi wpa3_support without transition)
    OWE = "owe"
    ENTERPRISE = "enterprise"


class Cipher(enum.StrEnum):
    CCMP = "ccmp"  # AES
    TKIP = "tkip"
    TKIP_CCMP = "tkip+ccmp"


class Pmf(enum.StrEnum):
    """802.11w protected management frames (OpenWrt ieee80211w 0/1/2, UniFi pmf_mode)."""

    DISABLED = "disabled"
    OPTIONAL = "optional"
    REQUIRED = "required"


class MacPolicy(enum.StrEnum):
    ALLOW = "allow"  # only the listed MACs may join
    DENY = "deny"  # the listed MACs may not join


@dataclass(frozen=True, kw_only=True, slots=True)
class Origin:
    """Where a value was read: ``source`` is the file as the site file names it, ``key`` the field path."""

    source: str
    key: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where} {self.key}"


@dataclass(frozen=True, kw_only=True, slots=True)
class MacFilter:
    policy: MacPolicy
    macs: frozenset[str]  # normalised: lower case, colon separated
    origin: Origin


@dataclass(frozen=True, kw_only=True, slots=True)
class Ssid:
    name: str
    bands: frozenset[Band]
    security: Security
    cipher: Cipher
    pmf: Pmf
    origin: Origin
    mac_filter: MacFilter | None = None
    vlan: str | None = None  # the VLAN (network) name its clients land in


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessPoint:
    """One AP or mesh node, and where it stands relative to the garage."""

    name: str
    bands: frozenset[Band]
    origin: Origin
    ssids: frozenset[str] | None = None  # None: it broadcasts every SSID of the site
    location: str = ""
    distance_to_garage_m: float | None = None
    near_garage: bool | None = None  # stated by the user; None: judged from location / distance


class Reflector(enum.StrEnum):
    """What reflects mDNS between VLANs (connectivity.md §4.2 router-side knobs; seed: Avahi, pfSense/OPNsense)."""

    NONE = "none"
    AVAHI = "avahi"
    PFSENSE_AVAHI = "pfsense-avahi"
    OPNSENSE_MDNS_REPEATER = "opnsense-mdns-repeater"
    OPNSENSE_AVAHI = "opnsense-avahi"
    UNIFI = "unifi"  # the gateway's per-network Multicast DNS switch
    OTHER = "other"


@dataclass(frozen=True, kw_only=True, slots=True)
class Vlan:
    name: str
    origin: Origin
    vlan_id: int | None = None
    ssids: frozenset[str] = frozenset()
    ports: tuple[str, ...] = ()
    mdns_reflection: bool = False  # this VLAN takes part in an mDNS reflector
    reflector: Reflector = Reflector.NONE
    note: str = ""  # what else the export says about multicast ("igmp_snooping on")


@dataclass(frozen=True, kw_only=True, slots=True)
class Reservation:
    mac: str
    origin: Origin
    ip: str | None = None
    name: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Charger:
    charger_id: str
    model: str  # a key of chargewise.doctor.audit.models.PROFILES
    mac: str
    ssid: str
    origin: Origin
    vlan: str | None = None  # None: the SSID's VLAN


@dataclass(frozen=True, kw_only=True, slots=True)
class Sinkhole:
    kind: str  # "pihole", "adguard", "other"
    blocklists: tuple[Blocklist, ...] = ()
    allow: tuple[str, ...] = ()  # the sinkhole's own allow entries ("chargepoint.com", "*.tesla.com")


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteNetwork:
    name: str
    ssids: tuple[Ssid, ...]
    chargers: tuple[Charger, ...]
    aps: tuple[AccessPoint, ...] = ()
    vlans: tuple[Vlan, ...] = ()
    reservations: tuple[Reservation, ...] = ()
    sinkhole: Sinkhole | None = None
    csms_host: str | None = None
    csms_vlan: str | None = None  # where the backend runs
    app_vlan: str | None = None  # where the phones with the vendor app are
    sources: tuple[str, ...] = field(default_factory=tuple)  # every file read, for the report

    def ssid(self, name: str) -> Ssid | None:
        return next((s for s in self.ssids if s.name == name), None)

    def vlan(self, name: str) -> Vlan | None:
        return next((v for v in self.vlans if v.name == name), None)
