"""The site file (TOML, documented in ``docs/doctor-audit.md``) and the network it describes.

Two steps, so that this module never touches a disk: :func:`parse_site` validates the file's text and lists the
native inputs it names (``inputs``: OpenWrt files, a UniFi export, blocklists; paths as written, relative to
the site file); the caller reads those files and hands their text to :func:`build_network`, which parses them,
merges them with what the site file declares and checks every cross-reference. Both raise
:class:`~chargewise.doctor.audit.errors.SiteError`, one line naming the field and the fix.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chargewise.doctor.audit.blocklist import parse_blocklist
from chargewise.doctor.audit.errors import SiteError
from chargewise.doctor.audit.models import PROFILES
from chargewise.doctor.audit.network import (
    AccessPoint,
    Charger,
    Cipher,
    MacFilter,
    MacPolicy,
    Origin,
    Pmf,
    Reflector,
    Reservation,
    Security,
    Sinkhole,
    SiteNetwork,
    Ssid,
    Vlan,
)
from chargewise.doctor.audit.openwrt import read_dhcp, read_wireless
from chargewise.doctor.audit.schema import Table, suggest
from chargewise.doctor.audit.unifi import read_export
from chargewise.doctor.audit.values import normalise_mac, parse_band

TOP = {"name": '"my home"', "csms_host": '"csms.example.net"', "csms_vlan": '"servers"', "app_vlan": '"main"',
       "openwrt_wireless": '"openwrt/wireless"', "openwrt_dhcp": '"openwrt/dhcp"', "unifi_export": '"unifi.json"',
       "aps": "[[aps]] tables", "ssids": "[[ssids]] tables", "vlans": "[[vlans]] tables", "dns": "a [dns] table",
       "dhcp": "a [dhcp] table", "chargers": "[[chargers]] tables"}  # fmt: skip
AP = {"name": '"garage node"', "bands": "[2.4, 5]", "ssids": '["IoT"]', "location": '"garage"',
      "distance_to_garage_m": "3", "near_garage": "true", "openwrt_wireless": '"garage/wireless"'}  # fmt: skip
SSID = {"name": '"IoT"', "bands": "[2.4]", "security": '"wpa2"', "cipher": '"ccmp"', "pmf": '"disabled"',
        "vlan": '"iot"', "mac_filter": '{ policy = "allow", macs = ["..."] }'}  # fmt: skip
MAC_FILTER = {"policy": '"allow"', "macs": '["4c:fc:aa:01:02:03"]'}
VLAN = {"name": '"iot"', "id": "20", "ssids": '["IoT"]', "ports": '["lan3"]', "mdns_reflection": "true",
        "mdns_reflector": '"avahi"'}  # fmt: skip
DNS = {"sinkhole": '"pihole"', "blocklists": '["lists/gravity.txt"]', "allow": '["*.chargepoint.com"]'}
DHCP = {"reservations": "[[dhcp.reservations]] tables"}
RESERVATION = {"mac": '"4c:fc:aa:01:02:03"', "ip": '"192.168.20.10"', "name": '"garage charger"'}
CHARGER = {"id": '"garage"', "model": '"tesla-wall-connector-gen3"', "mac": '"4c:fc:aa:01:02:03"',
           "ssid": '"IoT"', "vlan": '"iot"', "location": '"garage"'}  # fmt: skip
SINKHOLES = ("pihole", "adguard", "other")
MAC_FIX = 'write six hex pairs, e.g. "4c:fc:aa:01:02:03"'


@dataclass(frozen=True, kw_only=True, slots=True)
class Input:
    """A native file the site file names: ``kind`` is the key (``openwrt_wireless``, ...), ``field`` its path."""

    kind: str
    path: str
    field: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteFile:
    """The validated site file; read every ``inputs`` path and pass the texts to :func:`build_network`."""

    source: str
    network: SiteNetwork  # what the site file itself declares
    inputs: tuple[Input, ...]
    ap_inputs: tuple[tuple[int, str], ...]  # (index into network.aps, openwrt_wireless path)


def parse_site(text: str, source: str) -> SiteFile:
    """Validate the site file's text (``source`` names it in origins)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(source, f"not valid TOML: {exc}", "fix the syntax at that line") from None
    top = Table(data, "", TOP)
    inputs = [Input(kind=k, path=p, field=k) for k in ("openwrt_wireless", "openwrt_dhcp", "unifi_export")
              if (p := top.text(k))]  # fmt: skip
    aps: list[AccessPoint] = []
    ap_inputs: list[tuple[int, str]] = []
    for where, item in top.tables("aps"):
        ap, path = _ap(item, where, source)
        if path:
            ap_inputs.append((len(aps), path))
            inputs.append(Input(kind="openwrt_wireless", path=path, field=f"{where}.openwrt_wireless"))
        aps.append(ap)
    sinkhole = None
    if "dns" in data:
        dns = Table(top.sub("dns"), "dns", DNS)
        inputs += [Input(kind="blocklist", path=p, field="dns.blocklists") for p in dns.texts("blocklists")]
        kind = dns.text("sinkhole", "pihole") or "pihole"
        if kind not in SINKHOLES:
            raise SiteError("dns.sinkhole", f'unknown sinkhole "{kind}"', suggest(kind, SINKHOLES))
        sinkhole = Sinkhole(kind=kind, allow=tuple(a.lower() for a in dns.texts("allow")))
    dhcp = Table(top.sub("dhcp"), "dhcp", DHCP)
    network = SiteNetwork(
        name=top.text("name", "") or source,
        ssids=tuple(_ssid(item, where, source) for where, item in top.tables("ssids")),
        chargers=tuple(_charger(item, where, source) for where, item in top.tables("chargers")),
        aps=tuple(aps),
        vlans=tuple(_vlan(item, where, source) for where, item in top.tables("vlans")),
        reservations=tuple(_reservation(item, where, source) for where, item in dhcp.tables("reservations")),
        sinkhole=sinkhole,
        csms_host=(top.text("csms_host") or "").lower().rstrip(".") or None,
        csms_vlan=top.text("csms_vlan"),
        app_vlan=top.text("app_vlan"),
    )
    if not network.chargers:
        raise SiteError("chargers", "missing", "add a [[chargers]] table for each charger")
    seen: set[str] = set()
    for i, charger in enumerate(network.chargers):
        if charger.charger_id in seen:
            raise SiteError(
                f"chargers[{i}].id", f'"{charger.charger_id}" is used twice', "give each charger its own id"
            )
        seen.add(charger.charger_id)
    return SiteFile(source=source, network=network, inputs=tuple(inputs), ap_inputs=tuple(ap_inputs))


def _ap(data: Any, where: str, source: str) -> tuple[AccessPoint, str | None]:
    t = Table(data, where, AP, required=("name",))
    path = t.text("openwrt_wireless")
    if "bands" not in t.data and not path:
        raise SiteError(f"{where}.bands", "missing", "add bands = [2.4, 5] (or openwrt_wireless = its file)")
    bands = frozenset(parse_band(b, f"{where}.bands") for b in _list(t, "bands"))
    ssids = frozenset(t.texts("ssids")) if "ssids" in t.data else None
    ap = AccessPoint(name=t.text("name") or "", bands=bands, ssids=ssids, location=t.text("location", "") or "",
                     distance_to_garage_m=t.number("distance_to_garage_m"), near_garage=t.flag("near_garage"),
                     origin=Origin(source=source, key=where))  # fmt: skip
    return ap, path


def _ssid(data: Any, where: str, source: str) -> Ssid:
    t = Table(data, where, SSID, required=("name", "bands", "security"))
    security = t.choice("security", Security)
    default_pmf = {Security.WPA3: Pmf.REQUIRED, Security.WPA2_WPA3_TRANSITION: Pmf.OPTIONAL}.get(security)
    mac_filter = None
    if "mac_filter" in t.data:
        m = Table(t.sub("mac_filter"), f"{where}.mac_filter", MAC_FILTER, required=("policy",))
        macs = frozenset(normalise_mac(x, f"{where}.mac_filter.macs", MAC_FIX) for x in m.texts("macs"))
        mac_filter = MacFilter(policy=m.choice("policy", MacPolicy), macs=macs,
                               origin=Origin(source=source, key=f"{where}.mac_filter"))  # fmt: skip
    return Ssid(
        name=t.text("name") or "",
        bands=frozenset(parse_band(b, f"{where}.bands") for b in _list(t, "bands")),
        security=security,
        cipher=t.choice("cipher", Cipher, Cipher.TKIP if security is Security.WPA else Cipher.CCMP),
        pmf=t.choice("pmf", Pmf, default_pmf or Pmf.DISABLED),
        origin=Origin(source=source, key=f"{where}.security"),
        mac_filter=mac_filter,
        vlan=t.text("vlan"),
    )


def _vlan(data: Any, where: str, source: str) -> Vlan:
    t = Table(data, where, VLAN, required=("name",))
    reflector = t.choice("mdns_reflector", Reflector, Reflector.NONE)
    reflection = t.flag("mdns_reflection")
    return Vlan(name=t.text("name") or "", vlan_id=t.integer("id"), ssids=frozenset(t.texts("ssids")),
                ports=t.texts("ports"), reflector=reflector,
                mdns_reflection=reflector is not Reflector.NONE if reflection is None else reflection,
                origin=Origin(source=source, key=f"{where}.mdns_reflection"))  # fmt: skip


def _reservation(data: Any, where: str, source: str) -> Reservation:
    t = Table(data, where, RESERVATION, required=("mac",))
    return Reservation(mac=normalise_mac(t.text("mac") or "", f"{where}.mac", MAC_FIX), ip=t.text("ip"),
                       name=t.text("name", "") or "", origin=Origin(source=source, key=f"{where}.mac"))  # fmt: skip


def _charger(data: Any, where: str, source: str) -> Charger:
    t = Table(data, where, CHARGER, required=("id", "model", "mac", "ssid"))
    model = t.text("model") or ""
    if model not in PROFILES:
        raise SiteError(f"{where}.model", f'unknown model "{model}"', suggest(model, PROFILES))
    return Charger(charger_id=t.text("id") or "", model=model, ssid=t.text("ssid") or "", vlan=t.text("vlan"),
                   mac=normalise_mac(t.text("mac") or "", f"{where}.mac", MAC_FIX),
                   origin=Origin(source=source, key=where))  # fmt: skip


def _list(t: Table, key: str) -> list[Any]:
    value = t.data.get(key, [])
    if not isinstance(value, list):
        raise SiteError(t.path(key), "expected a list", f"write {key} = [2.4]")
    return value


def build_network(site: SiteFile, texts: Mapping[str, str]) -> SiteNetwork:
    """Merge the native inputs (``texts``: path as written -> file text) into the site file's network.

    What the site file declares wins over a native input with the same name (an SSID, a VLAN).
    """
    declared = site.network
    ssids: list[Ssid] = []
    aps = list(declared.aps)
    vlans: list[Vlan] = []
    reservations = list(declared.reservations)
    blocklists = []
    for item in site.inputs:
        text = texts[item.path]
        if item.kind == "openwrt_wireless":
            wireless = read_wireless(text, item.path)
            ssids += wireless.ssids
            for index, path in site.ap_inputs:
                if path == item.path and item.field.startswith("aps["):
                    ap = aps[index]
                    names = frozenset(s.name for s in wireless.ssids) if ap.ssids is None else ap.ssids
                    aps[index] = replace(ap, bands=ap.bands or wireless.bands, ssids=names)
        elif item.kind == "openwrt_dhcp":
            reservations += read_dhcp(text, item.path)
        elif item.kind == "unifi_export":
            export = read_export(text, item.path)
            ssids += export.ssids
            vlans += export.vlans
            reservations += export.reservations
        else:
            blocklists.append(parse_blocklist(text, item.path))
    declared_names = {s.name for s in declared.ssids}
    vlan_names = {v.name for v in declared.vlans}
    network = replace(
        declared,
        ssids=(*declared.ssids, *(s for s in ssids if s.name not in declared_names)),
        aps=tuple(aps),
        vlans=(*declared.vlans, *(v for v in vlans if v.name not in vlan_names)),
        reservations=tuple(reservations),
        sinkhole=replace(declared.sinkhole, blocklists=tuple(blocklists)) if declared.sinkhole else None,
        sources=(site.source, *dict.fromkeys(i.path for i in site.inputs)),
    )
    _check_references(network)
    return network


def _check_references(network: SiteNetwork) -> None:
    ssids = sorted({s.name for s in network.ssids})
    vlans = sorted({v.name for v in network.vlans})
    for i, charger in enumerate(network.chargers):
        if charger.ssid not in ssids:
            raise SiteError(f"chargers[{i}].ssid", f'unknown SSID "{charger.ssid}"',
                            f"declare it under [[ssids]] or in an export; {suggest(charger.ssid, ssids)}")  # fmt: skip
        if charger.vlan and charger.vlan not in vlans:
            raise SiteError(f"chargers[{i}].vlan", f'unknown VLAN "{charger.vlan}"',
                            f"declare it under [[vlans]]; {suggest(charger.vlan, vlans)}")  # fmt: skip
    for key in ("csms_vlan", "app_vlan"):
        name = getattr(network, key)
        if name and name not in vlans:
            raise SiteError(key, f'unknown VLAN "{name}"', f"declare it under [[vlans]]; {suggest(name, vlans)}")
    for i, ap in enumerate(network.aps):
        for name in sorted(ap.ssids or ()):
            if name not in ssids:
                raise SiteError(f"aps[{i}].ssids", f'unknown SSID "{name}"', suggest(name, ssids))
