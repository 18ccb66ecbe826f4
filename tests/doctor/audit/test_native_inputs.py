"""The OpenWrt UCI and UniFi export parsers on real-format fixtures (§4.3 tables)."""

from __future__ import annotations

import pytest

from chargewise.doctor.audit.network import Band, Cipher, MacPolicy, Pmf, Security
from chargewise.doctor.audit.openwrt import read_dhcp, read_wireless
from chargewise.doctor.audit.uci import parse_uci
from chargewise.doctor.audit.unifi import read_export
from tests.doctor.audit.test_audit_cases import FIXTURES


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_uci_sections_options_lists_and_anonymous_names() -> None:
    sections = parse_uci(fixture("openwrt/wireless-1907"), "w")
    assert [(s.type, s.name) for s in sections] == [
        ("wifi-device", "radio0"), ("wifi-device", "radio1"), ("wifi-iface", "@wifi-iface[0]"),
        ("wifi-iface", "@wifi-iface[1]"), ("wifi-iface", "sta_uplink"),
    ]  # fmt: skip
    assert sections[2].get("ssid") == "Garage IoT" and sections[2].line_of("encryption") == 20
    iot = next(s for s in parse_uci(fixture("openwrt/wireless"), "w") if s.name == "wifinet2")
    assert [v.text for v in iot.values("maclist")] == ["4C:FC:AA:01:02:03", "a4:cf:12:aa:bb:cc"]


def test_openwrt_wireless() -> None:
    wireless = read_wireless(fixture("openwrt/wireless"), "wireless")
    assert wireless.bands == {Band.GHZ_2_4, Band.GHZ_5}
    by_name = {s.name: s for s in wireless.ssids}
    assert "Off" not in by_name  # option disabled '1'
    home, home5, iot = by_name["Home"], by_name["Home-5G"], by_name["IoT"]
    assert (home.security, home.pmf, home.bands) == (Security.WPA2_WPA3_TRANSITION, Pmf.REQUIRED, {Band.GHZ_2_4})
    assert (home5.pmf, home5.bands) == (Pmf.OPTIONAL, {Band.GHZ_5})  # sae-mixed default ieee80211w=1
    assert (iot.security, iot.cipher, iot.pmf, iot.vlan) == (Security.WPA2, Cipher.CCMP, Pmf.DISABLED, "iot")
    assert iot.mac_filter is not None and iot.mac_filter.policy is MacPolicy.ALLOW
    assert iot.mac_filter.macs == {"4c:fc:aa:01:02:03", "a4:cf:12:aa:bb:cc"} and iot.mac_filter.origin.line == 44
    assert (by_name["Legacy"].cipher, by_name["Secure"].security) == (Cipher.TKIP, Security.WPA3)
    assert (by_name["OldMixed"].security, by_name["OldMixed"].cipher) == (Security.WPA_WPA2, Cipher.TKIP_CCMP)
    assert by_name["Blocked"].mac_filter is not None and by_name["Blocked"].mac_filter.policy is MacPolicy.DENY


def test_openwrt_1907_hwmode_and_station_interfaces() -> None:
    wireless = read_wireless(fixture("openwrt/wireless-1907"), "w")
    by_name = {s.name: s for s in wireless.ssids}
    assert set(by_name) == {"Garage IoT", "Home5"}  # mode 'sta' is an uplink, not an SSID we serve
    assert by_name["Garage IoT"].bands == {Band.GHZ_2_4} and by_name["Garage IoT"].cipher is Cipher.TKIP_CCMP
    assert by_name["Home5"].bands == {Band.GHZ_5} and by_name["Home5"].pmf is Pmf.OPTIONAL


@pytest.mark.parametrize(
    ("encryption", "security", "cipher", "pmf"),
    [
        ("psk2", Security.WPA2, Cipher.CCMP, Pmf.DISABLED),
        ("psk2+aes", Security.WPA2, Cipher.CCMP, Pmf.DISABLED),
        ("psk2+tkip+aes", Security.WPA2, Cipher.TKIP_CCMP, Pmf.DISABLED),
        ("psk", Security.WPA, Cipher.TKIP, Pmf.DISABLED),
        ("psk-mixed", Security.WPA_WPA2, Cipher.CCMP, Pmf.DISABLED),
        ("psk3-mixed", Security.WPA2_WPA3_TRANSITION, Cipher.CCMP, Pmf.OPTIONAL),
        ("psk3", Security.WPA3, Cipher.CCMP, Pmf.REQUIRED),
        ("wep-open", Security.WEP, Cipher.CCMP, Pmf.DISABLED),
        ("none", Security.OPEN, Cipher.CCMP, Pmf.DISABLED),
        ("wpa2+ccmp", Security.ENTERPRISE, Cipher.CCMP, Pmf.DISABLED),
    ],
)
def test_openwrt_encryption_table(encryption: str, security: Security, cipher: Cipher, pmf: Pmf) -> None:
    text = f"config wifi-device r\n option channel '6'\nconfig wifi-iface\n option device r\n option encryption {encryption}"
    [ssid] = read_wireless(text, "w").ssids
    assert (ssid.security, ssid.cipher, ssid.pmf) == (security, cipher, pmf)
    assert ssid.bands == {Band.GHZ_2_4}  # channel 6 with no band / hwmode


def test_openwrt_dhcp_hosts() -> None:
    reservations = read_dhcp(fixture("openwrt/dhcp"), "dhcp")
    assert [(r.mac, r.ip, r.origin.line) for r in reservations] == [
        ("4c:fc:aa:01:02:03", "192.168.20.10", 55),
        ("00:11:32:aa:bb:cc", "192.168.1.5", 61),
        ("00:11:32:aa:bb:cd", "192.168.1.5", 61),
    ]


def test_unifi_export() -> None:
    export = read_export(fixture("unifi/export.json"), "unifi")
    by_name = {s.name: s for s in export.ssids}
    assert "Guest" not in by_name  # enabled: false
    main, iot, six, printer = by_name["Main"], by_name["IoT"], by_name["Main-6E"], by_name["Printer"]
    assert (main.security, main.pmf, main.bands, main.vlan) == (
        Security.WPA2_WPA3_TRANSITION, Pmf.OPTIONAL, {Band.GHZ_2_4, Band.GHZ_5}, "Default")  # fmt: skip
    assert (iot.security, iot.bands, iot.vlan) == (Security.WPA2, {Band.GHZ_2_4}, "IoT")
    assert iot.mac_filter is not None and "4c:fc:aa:01:02:03" in iot.mac_filter.macs
    assert (six.security, six.pmf, six.bands) == (Security.WPA3, Pmf.REQUIRED, {Band.GHZ_6})
    assert printer.cipher is Cipher.TKIP and printer.bands == {Band.GHZ_2_4}  # older wlan_band key only
    vlans = {v.name: v for v in export.vlans}
    assert set(vlans) == {"Default", "IoT", "Servers"}  # the WAN is not a VLAN
    assert (vlans["IoT"].vlan_id, vlans["IoT"].mdns_reflection) == (20, False)
    assert (vlans["Servers"].vlan_id, vlans["Servers"].mdns_reflection) == (30, True)
    assert vlans["Default"].vlan_id is None
    assert [(r.mac, r.ip) for r in export.reservations] == [("a4:cf:12:aa:bb:cc", "192.168.20.11")]


def test_unifi_export_accepts_bare_data_lists() -> None:
    export = read_export('{"wlanconf": [{"name": "x", "security": "open"}]}', "u")
    assert [(s.name, s.security, s.bands) for s in export.ssids] == [("x", Security.OPEN, {Band.GHZ_2_4, Band.GHZ_5})]
