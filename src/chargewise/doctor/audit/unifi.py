"""A UniFi Network controller export: WLANs (``rest/wlanconf``), networks (``rest/networkconf``) and fixed-IP
clients (``rest/user``) as the audit's SSIDs, VLANs and reservations.

The file is one JSON object whose keys ``wlanconf``, ``networkconf`` and ``user`` each hold the controller's
response to that endpoint (``{"meta": {"rc": "ok"}, "data": [...]}``) or just its ``data`` list. Field
meanings follow connectivity.md §4.3 (controller REST and terraform ``unifi_wlan`` / ``unifi_network``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from chargewise.doctor.audit.errors import SiteError
from chargewise.doctor.audit.network import (
    Band,
    Cipher,
    MacFilter,
    MacPolicy,
    Origin,
    Pmf,
    Reflector,
    Reservation,
    Security,
    Ssid,
    Vlan,
)
from chargewise.doctor.audit.values import UNIFI_BANDS, normalise_mac

T = TypeVar("T")

WPA_ENC = {"ccmp": Cipher.CCMP, "gcmp": Cipher.CCMP, "tkip": Cipher.TKIP, "auto": Cipher.TKIP_CCMP}
PMF = {"disabled": Pmf.DISABLED, "optional": Pmf.OPTIONAL, "required": Pmf.REQUIRED}
WLAN_BAND = {
    "2g": frozenset({Band.GHZ_2_4}),
    "5g": frozenset({Band.GHZ_5}),
    "both": frozenset({Band.GHZ_2_4, Band.GHZ_5}),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Export:
    ssids: tuple[Ssid, ...]
    vlans: tuple[Vlan, ...]
    reservations: tuple[Reservation, ...]


def read_export(text: str, source: str) -> Export:
    """Parse the export; raises :class:`SiteError` naming the object and key that do not fit."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SiteError(f"{source}:{exc.lineno}", f"not valid JSON: {exc.msg}", "fix the JSON at that line") from None
    if not isinstance(document, dict) or "wlanconf" not in document:
        raise SiteError(source, 'no "wlanconf" key', 'save {"wlanconf": ..., "networkconf": ...} (see docs)')
    networks = _rows(document, "networkconf", source)
    names = {str(n.get("_id")): str(n.get("name", "")) for n in networks}
    ssids = tuple(
        _ssid(w, i, names, source) for i, w in enumerate(_rows(document, "wlanconf", source)) if w.get("enabled", True)
    )
    vlans = tuple(_vlan(n, i, source) for i, n in enumerate(networks) if n.get("purpose") != "wan")
    return Export(ssids=ssids, vlans=vlans, reservations=_reservations(_rows(document, "user", source), source))


def _rows(document: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    value = document.get(key, [])
    if isinstance(value, dict):
        value = value.get("data", [])
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise SiteError(f"{source} {key}", "is not a list of objects", f"paste the controller's rest/{key} answer")
    return value


def _ssid(wlan: dict[str, Any], index: int, networks: dict[str, str], source: str) -> Ssid:
    key = f"wlanconf[{index}]"
    security = _security(wlan, key, source)
    pmf = _pick(PMF, wlan.get("pmf_mode"), f"{key}.pmf_mode", source) if "pmf_mode" in wlan else _default_pmf(security)
    cipher = _pick(WPA_ENC, wlan.get("wpa_enc", "ccmp"), f"{key}.wpa_enc", source)
    return Ssid(
        name=str(wlan.get("name", "")),
        bands=_bands(wlan, key, source),
        security=security,
        cipher=cipher if security not in (Security.OPEN, Security.OWE, Security.WEP) else Cipher.CCMP,
        pmf=pmf,
        origin=Origin(source=source, key=f"{key} ({wlan.get('name', '')})"),
        mac_filter=_mac_filter(wlan, key, source),
        vlan=networks.get(str(wlan.get("networkconf_id"))) or None,
    )


def _security(wlan: dict[str, Any], key: str, source: str) -> Security:
    security = wlan.get("security", "open")
    simple = {"open": Security.OPEN, "wep": Security.WEP, "wpaeap": Security.ENTERPRISE, "osen": Security.ENTERPRISE}
    if security in simple:
        return simple[security]
    if security != "wpapsk":
        raise SiteError(f"{source} {key}.security", f"unknown value {security!r}", "expected wpapsk, open or wpaeap")
    if wlan.get("wpa3_support"):
        return Security.WPA2_WPA3_TRANSITION if wlan.get("wpa3_transition") else Security.WPA3
    mode = wlan.get("wpa_mode", "wpa2")
    return {"wpa1": Security.WPA, "auto": Security.WPA_WPA2}.get(mode, Security.WPA2)


def _default_pmf(security: Security) -> Pmf:
    return {Security.WPA3: Pmf.REQUIRED, Security.WPA2_WPA3_TRANSITION: Pmf.OPTIONAL}.get(security, Pmf.DISABLED)


def _bands(wlan: dict[str, Any], key: str, source: str) -> frozenset[Band]:
    if isinstance(wlan.get("wlan_bands"), list):
        return frozenset(_pick(UNIFI_BANDS, b, f"{key}.wlan_bands", source) for b in wlan["wlan_bands"])
    return _pick(WLAN_BAND, wlan.get("wlan_band", "both"), f"{key}.wlan_band", source)


def _mac_filter(wlan: dict[str, Any], key: str, source: str) -> MacFilter | None:
    if not wlan.get("mac_filter_enabled"):
        return None
    policy = _pick({"allow": MacPolicy.ALLOW, "deny": MacPolicy.DENY}, wlan.get("mac_filter_policy", "allow"),
                   f"{key}.mac_filter_policy", source)  # fmt: skip
    where = f"{source} {key}.mac_filter_list"
    macs = frozenset(
        normalise_mac(str(m), where, "list MACs as six hex pairs") for m in wlan.get("mac_filter_list", [])
    )
    return MacFilter(policy=policy, macs=macs, origin=Origin(source=source, key=f"{key}.mac_filter_list"))


def _vlan(network: dict[str, Any], index: int, source: str) -> Vlan:
    vlan_id = network.get("vlan") if network.get("vlan_enabled") else None
    mdns = bool(network.get("mdns_enabled", network.get("multicast_dns", False)))
    return Vlan(
        name=str(network.get("name", "")),
        vlan_id=int(vlan_id) if vlan_id not in (None, "") else None,
        mdns_reflection=mdns,
        reflector=Reflector.UNIFI if mdns else Reflector.NONE,
        note="igmp_snooping on" if network.get("igmp_snooping") else "",
        origin=Origin(source=source, key=f"networkconf[{index}].mdns_enabled"),
    )


def _reservations(users: list[dict[str, Any]], source: str) -> tuple[Reservation, ...]:
    found = []
    for index, user in enumerate(users):
        if user.get("use_fixedip") and user.get("mac"):
            where = f"{source} user[{index}].mac"
            found.append(Reservation(mac=normalise_mac(str(user["mac"]), where, "use six hex pairs"),
                                     ip=user.get("fixed_ip"), name=str(user.get("name", "")),
                                     origin=Origin(source=source, key=f"user[{index}].fixed_ip")))  # fmt: skip
    return tuple(found)


def _pick(table: dict[str, T], value: object, key: str, source: str) -> T:
    if not isinstance(value, str) or value not in table:
        raise SiteError(f"{source} {key}", f"unknown value {value!r}", f"expected one of {', '.join(table)}")
    return table[value]
