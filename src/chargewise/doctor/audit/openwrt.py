"""OpenWrt ``/etc/config/wireless`` and ``/etc/config/dhcp`` as the audit's SSIDs, radios and reservations.

The encryption table follows connectivity.md §4.3 (from openwrt/netifd ``wireless_vif_parse_encryption`` and
the hostapd.sh defaults): what each ``option encryption`` value turns into, and the default ``ieee80211w``.
"""

from __future__ import annotations

from dataclasses import dataclass

from chargewise.doctor.audit.errors import SiteError
from chargewise.doctor.audit.network import (
    Band,
    Cipher,
    MacFilter,
    MacPolicy,
    Origin,
    Pmf,
    Reservation,
    Security,
    Ssid,
)
from chargewise.doctor.audit.uci import Section, parse_uci
from chargewise.doctor.audit.values import normalise_mac

# §4.3: the base of ``option encryption`` (before the first "+") -> (security, default PMF)
ENCRYPTION: dict[str, tuple[Security, Pmf]] = {
    "none": (Security.OPEN, Pmf.DISABLED),
    "owe": (Security.OWE, Pmf.REQUIRED),
    "psk": (Security.WPA, Pmf.DISABLED),
    "psk2": (Security.WPA2, Pmf.DISABLED),
    "psk-mixed": (Security.WPA_WPA2, Pmf.DISABLED),
    "sae-mixed": (Security.WPA2_WPA3_TRANSITION, Pmf.OPTIONAL),  # default ieee80211w=1
    "psk3-mixed": (Security.WPA2_WPA3_TRANSITION, Pmf.OPTIONAL),
    "sae": (Security.WPA3, Pmf.REQUIRED),  # default ieee80211w=2
    "psk3": (Security.WPA3, Pmf.REQUIRED),
    "wpa": (Security.ENTERPRISE, Pmf.DISABLED),
    "wpa2": (Security.ENTERPRISE, Pmf.DISABLED),
    "wpa-mixed": (Security.ENTERPRISE, Pmf.DISABLED),
    "wpa3": (Security.ENTERPRISE, Pmf.REQUIRED),
    "wpa3-mixed": (Security.ENTERPRISE, Pmf.OPTIONAL),
}
IEEE80211W = {"0": Pmf.DISABLED, "1": Pmf.OPTIONAL, "2": Pmf.REQUIRED}
BAND = {"2g": Band.GHZ_2_4, "5g": Band.GHZ_5, "6g": Band.GHZ_6}
HWMODE = {"11b": Band.GHZ_2_4, "11g": Band.GHZ_2_4, "11ng": Band.GHZ_2_4, "11a": Band.GHZ_5, "11na": Band.GHZ_5}
HWMODE.update({"11ac": Band.GHZ_5, "11ax": Band.GHZ_5})


@dataclass(frozen=True, kw_only=True, slots=True)
class Wireless:
    """One OpenWrt device's radios (their bands) and the SSIDs it serves."""

    bands: frozenset[Band]
    ssids: tuple[Ssid, ...]


def read_wireless(text: str, source: str) -> Wireless:
    """Parse ``/etc/config/wireless``: enabled AP interfaces become SSIDs on the bands of their radios."""
    sections = _sections(text, source)
    radios = {s.name: _band(s, source) for s in sections if s.type == "wifi-device" and s.get("disabled") != "1"}
    ssids: list[Ssid] = []
    for iface in sections:
        if iface.type != "wifi-iface" or iface.get("disabled") == "1" or iface.get("mode", "ap") != "ap":
            continue
        device = iface.get("device")
        if device not in radios:
            continue  # on a disabled or missing radio: not on the air
        ssids.append(_ssid(iface, radios[device], source))
    return Wireless(bands=frozenset(radios.values()), ssids=tuple(ssids))


def read_dhcp(text: str, source: str) -> tuple[Reservation, ...]:
    """Parse ``/etc/config/dhcp``: each ``config host`` MAC is a static lease (a reservation)."""
    found: list[Reservation] = []
    for host in _sections(text, source):
        if host.type != "host":
            continue
        for value in host.values("mac"):
            where = f"{source}:{value.line}"
            mac = normalise_mac(value.text, where, "write the MAC as six hex pairs, e.g. 4c:fc:aa:01:02:03")
            origin = Origin(source=source, key=f"host {host.name!r}.mac", line=value.line)
            found.append(Reservation(mac=mac, ip=host.get("ip") or None, name=host.get("name"), origin=origin))
    return tuple(found)


def _sections(text: str, source: str) -> list[Section]:
    return parse_uci(text, source)


def _band(radio: Section, source: str) -> Band:
    band = radio.get("band")
    if band in BAND:
        return BAND[band]
    if radio.get("hwmode") in HWMODE:
        return HWMODE[radio.get("hwmode")]
    channel = radio.get("channel")
    if channel.isdigit():
        return Band.GHZ_2_4 if int(channel) <= 14 else Band.GHZ_5
    raise SiteError(f"{source}:{radio.line}", f"wifi-device {radio.name!r}: cannot tell its band",
                    "add option band '2g', '5g' or '6g' to that section")  # fmt: skip


def _ssid(iface: Section, band: Band, source: str) -> Ssid:
    encryption = iface.get("encryption", "none")
    base, _, ciphers = encryption.partition("+")
    if base.startswith("wep"):
        security, pmf = Security.WEP, Pmf.DISABLED
    elif base in ENCRYPTION:
        security, pmf = ENCRYPTION[base]
    else:
        raise SiteError(f"{source}:{iface.line_of('encryption')}", f"unknown encryption {encryption!r}",
                        "use an OpenWrt value such as psk2, sae-mixed, sae or psk2+ccmp")  # fmt: skip
    ieee80211w = iface.get("ieee80211w")
    if ieee80211w:
        if ieee80211w not in IEEE80211W:
            raise SiteError(f"{source}:{iface.line_of('ieee80211w')}", f"ieee80211w {ieee80211w!r} is not 0, 1 or 2",
                            "use 0 (off), 1 (optional) or 2 (required)")  # fmt: skip
        pmf = IEEE80211W[ieee80211w]
    name = f"wifi-iface {iface.name!r}"
    return Ssid(
        name=iface.get("ssid", "OpenWrt"),
        bands=frozenset({band}),
        security=security,
        cipher=_cipher(ciphers, security),
        pmf=pmf,
        origin=Origin(source=source, key=f"{name}.encryption", line=iface.line_of("encryption")),
        mac_filter=_mac_filter(iface, source, name),
        vlan=iface.get("network") or None,
    )


def _cipher(ciphers: str, security: Security) -> Cipher:
    """``+tkip`` alone is TKIP, ``+tkip+ccmp`` (or ``+aes``) both; none given: CCMP, TKIP for WPA1 (§4.3)."""
    parts = {"ccmp" if part == "aes" else part for part in ciphers.split("+") if part}
    if "tkip" in parts:
        return Cipher.TKIP_CCMP if "ccmp" in parts else Cipher.TKIP
    return Cipher.TKIP if security is Security.WPA and not parts else Cipher.CCMP


def _mac_filter(iface: Section, source: str, name: str) -> MacFilter | None:
    policy = iface.get("macfilter", "disable")
    if policy not in ("allow", "deny"):
        return None
    macs = frozenset(
        normalise_mac(v.text, f"{source}:{v.line}", "write each maclist entry as six hex pairs")
        for v in iface.values("maclist")
    )
    origin = Origin(source=source, key=f"{name}.macfilter", line=iface.line_of("macfilter"))
    return MacFilter(policy=MacPolicy(policy), macs=macs, origin=origin)
