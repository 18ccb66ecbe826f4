"""The audit's rules: a site's network in, findings out (pure; no file is read here).

Each rule is a small function over one charger and the network; the table of facts behind it is cited per rule
(connectivity.md sections, the seed document). :func:`audit` runs them all and returns the findings sorted,
errors first, or a single ``ok`` finding when nothing is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

from chargewise.doctor.audit.findings import AuditFinding, Code, Evidence, Severity
from chargewise.doctor.audit.models import PROFILES, Profile, Wpa3
from chargewise.doctor.audit.network import (
    AccessPoint,
    Band,
    Charger,
    Cipher,
    MacPolicy,
    Origin,
    Pmf,
    Security,
    SiteNetwork,
    Ssid,
)
from chargewise.doctor.audit.reach import domain_findings, mdns_finding, reservation_finding

# A node counts as "near the garage" within this distance: §3 B7 (go-e with a repeater 4 m away, in the garage).
NEAR_GARAGE_M = 5.0
ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def audit(site: SiteNetwork) -> list[AuditFinding]:
    """Every finding for the site, errors first; ``[ok]`` when there is none. Exit non-zero unless ``ok``."""
    found: list[AuditFinding] = []
    for charger in site.chargers:
        profile = PROFILES[charger.model]
        usable = [s for s in site.ssids if s.name == charger.ssid and s.bands & profile.bands]
        found += _band(site, charger, profile, usable)
        for ssid in usable:
            found += _security(charger, profile, ssid)
            found += _mac_filter(charger, ssid)
        if usable:  # off the air entirely (band_mismatch): where the nodes stand does not matter yet
            found += _mesh(site, charger, profile)
        found += mdns_finding(site, charger, usable)
        found += reservation_finding(site, charger)
    found += domain_findings(site)
    found = list(dict.fromkeys(found))  # the same SSID from two files reports once
    found.sort(key=lambda f: (ORDER[f.severity], f.charger or "", f.code.value))
    return found or [_ok(site)]


def _band(site: SiteNetwork, charger: Charger, profile: Profile, usable: list[Ssid]) -> Iterator[AuditFinding]:
    """§0 item 2, §4.4 reason 201 and the seed's band table: most charger radios are 2.4 GHz only."""
    if usable:
        return
    entries = [s for s in site.ssids if s.name == charger.ssid]
    has = _bands(frozenset().union(*(s.bands for s in entries)))
    needs = _bands(profile.bands)
    unsure = (
        "" if profile.bands_known else " (no public source states this model's bands; most chargers are 2.4 GHz only)"
    )
    yield AuditFinding(
        code=Code.BAND_MISMATCH,
        severity=Severity.ERROR if profile.bands_known else Severity.WARNING,
        charger=charger.charger_id,
        summary=f'SSID "{charger.ssid}" is on {has} only; the {profile.name} radio has {needs}{unsure}',
        explanation="The charger never sees the network: a 2.4 GHz radio cannot hear a 5 or 6 GHz SSID, so it "
        "reports 'network not found' (ESP32 reason 201) and stays offline. 2.4 GHz also goes through garage walls "
        "far better (200 mm concrete: about 15 dB at 2.4 GHz against 27 dB at 5 GHz).",
        fix=f'Broadcast "{charger.ssid}" on 2.4 GHz too, or better a separate 2.4 GHz-only IoT SSID with WPA2-AES '
        "for the charger, and turn band steering off for it.",
        source="connectivity.md §0 items 2, §4.3 (SSID on the 2.4 GHz radio), §4.4 reason 201; seed: RF propagation",
        evidence=tuple(Evidence(origin=s.origin, value=f"bands {_bands(s.bands)}") for s in entries),
    )


def _security(charger: Charger, profile: Profile, ssid: Ssid) -> Iterator[AuditFinding]:
    """§3 C11-C16 and the §4.3 verdicts: WPA3-only and transition mode fail on most charger stacks; TKIP too."""
    lacks_wpa3 = profile.wpa3 is not Wpa3.SUPPORTED
    unsure = profile.wpa3 is Wpa3.UNKNOWN
    evidence = (Evidence(origin=ssid.origin, value=f"{ssid.security.value}, pmf {ssid.pmf.value}"),)
    source = "connectivity.md §3 C11-C15, §4.3 (encryption table, ieee80211w, UniFi wpa3_*); seed: WPA2 vs WPA3"
    if ssid.security is Security.WPA3 and lacks_wpa3:
        yield AuditFinding(
            code=Code.WPA3_ONLY, severity=Severity.WARNING if unsure else Severity.ERROR, charger=charger.charger_id,
            summary=f'SSID "{ssid.name}" is WPA3-only; the {profile.name} has {_wpa3(profile)}',
            explanation="The charger's Wi-Fi stack cannot do the WPA3-SAE handshake, so it fails to authenticate "
            "(ESP32 reasons 202/204/15) and never comes online.",
            fix=f'Give the charger an SSID with WPA2-AES (psk2 / CCMP, PMF off or optional) instead of "{ssid.name}".',
            source=source, evidence=evidence,
        )  # fmt: skip
    elif ssid.security is Security.WPA2_WPA3_TRANSITION and lacks_wpa3:
        forced = ssid.pmf is Pmf.REQUIRED
        yield AuditFinding(
            code=Code.WPA3_TRANSITION,
            severity=Severity.ERROR if forced else Severity.WARNING,
            charger=charger.charger_id,
            summary=f'SSID "{ssid.name}" uses WPA2/WPA3 transition mode'
            + (" with PMF required" if forced else "") + f"; the {profile.name} has {_wpa3(profile)}",
            explanation="In transition mode the charger may try WPA3, fail, and time out instead of falling back to "
            "WPA2; it often works at first and drops later (Tesla Wall Connector, go-e, ESP32: §3 C11-C14)."
            + (" With PMF required a PMF-incapable station cannot join at all (esp-at#498)." if forced else ""),
            fix=f'Set "{ssid.name}" to WPA2-AES only (OpenWrt psk2, UniFi wpa3_support false), or add a separate '
            "WPA2-AES IoT SSID for the charger.",
            source=source, evidence=evidence,
        )  # fmt: skip
    elif ssid.pmf is Pmf.REQUIRED and lacks_wpa3 and ssid.security is not Security.WPA3:
        yield AuditFinding(
            code=Code.WPA3_TRANSITION, severity=Severity.WARNING, charger=charger.charger_id,
            summary=f'SSID "{ssid.name}" requires PMF (802.11w); the {profile.name} has {_wpa3(profile)}',
            explanation="Required protected management frames lock out stations whose Wi-Fi stack does not offer "
            "PMF; the handshake fails the same way as with WPA3 (esp-at#498).",
            fix=f'Set PMF to optional or off on "{ssid.name}" (OpenWrt ieee80211w 1 or 0, UniFi pmf_mode optional).',
            source=source, evidence=evidence,
        )  # fmt: skip
    yield from _tkip(charger, ssid)


def _tkip(charger: Charger, ssid: Ssid) -> Iterator[AuditFinding]:
    legacy = ssid.security in (Security.WPA, Security.WPA_WPA2)
    if ssid.cipher is Cipher.CCMP and not legacy:
        return
    only = ssid.cipher is Cipher.TKIP or ssid.security is Security.WPA
    what = "WPA1" if legacy else "TKIP"
    yield AuditFinding(
        code=Code.TKIP,
        severity=Severity.ERROR if only else Severity.WARNING,
        charger=charger.charger_id,
        summary=f'SSID "{ssid.name}" has {what} enabled ({ssid.security.value}, cipher {ssid.cipher.value})',
        explanation="TKIP and WPA1 are deprecated: modern ESP-IDF firmware refuses WPA1/TKIP-only networks by "
        "default, and mixed TKIP also caps the link at legacy rates.",
        fix=f'Set "{ssid.name}" to WPA2 with AES/CCMP only (OpenWrt psk2 or psk2+ccmp, UniFi wpa_enc ccmp).',
        source="connectivity.md §3 C16, §4.3 (psk2+tkip, psk-mixed, psk rows); seed: avoid TKIP",
        evidence=(Evidence(origin=ssid.origin, value=f"{ssid.security.value}, cipher {ssid.cipher.value}"),),
    )


def _mac_filter(charger: Charger, ssid: Ssid) -> Iterator[AuditFinding]:
    """Seed (Tesla Wall Connector provisioning): add the charger's MAC to an allow list before setup."""
    mac_filter = ssid.mac_filter
    if mac_filter is None:
        return
    listed = charger.mac in mac_filter.macs
    if listed == (mac_filter.policy is MacPolicy.ALLOW):
        return
    how = "is not on the allow list" if mac_filter.policy is MacPolicy.ALLOW else "is on the deny list"
    yield AuditFinding(
        code=Code.MAC_FILTER_OMITS_CHARGER, severity=Severity.ERROR, charger=charger.charger_id,
        summary=f'the charger\'s MAC {charger.mac} {how} of SSID "{ssid.name}"',
        explanation="The access point refuses the charger's association, so provisioning seems to succeed "
        "(the app handed over the credentials) but the charger never joins the network.",
        fix=f"{'Add' if mac_filter.policy is MacPolicy.ALLOW else 'Remove'} {charger.mac} "
        f"{'to' if mac_filter.policy is MacPolicy.ALLOW else 'from'} the MAC filter list of \"{ssid.name}\".",
        source="seed: Tesla Wall Connector (Gen 3) provisioning (MAC allow list before the BLE hand-off)",
        evidence=(Evidence(origin=mac_filter.origin, value=f"{mac_filter.policy.value}: {len(mac_filter.macs)} MACs"),),
    )  # fmt: skip


def _mesh(site: SiteNetwork, charger: Charger, profile: Profile) -> Iterator[AuditFinding]:
    """§3 B7-B10 and the seed's mesh section: ESP32 takes the first AP found and sticks to it."""
    nodes = [ap for ap in site.aps if _carries(ap, charger.ssid) and ap.bands & profile.bands]
    if len(nodes) < 2 or any(_near_garage(ap) for ap in nodes):
        return
    yield AuditFinding(
        code=Code.MESH_NO_GARAGE_NODE, severity=Severity.WARNING, charger=charger.charger_id,
        summary=f'SSID "{charger.ssid}" comes from {len(nodes)} nodes, none near the garage',
        explanation="Charger radios do not roam (no 802.11k/v/r) and often join the first AP they hear, then stick "
        "to it as its signal fades below -75 dBm; with no node near the garage every choice is a weak one.",
        fix=f"Put a node in or next to the garage (within {NEAR_GARAGE_M:g} m), and give the charger a separate "
        "2.4 GHz IoT SSID broadcast only by that node (or pin the charger to it).",
        source="connectivity.md §3 B7-B10 (sticky client, first AP found), §0 item 4 (-75 dBm); seed: mesh dilemma",
        evidence=tuple(Evidence(origin=ap.origin, value=_where(ap)) for ap in nodes),
    )  # fmt: skip


def _carries(ap: AccessPoint, ssid: str) -> bool:
    return ap.ssids is None or ssid in ap.ssids


def _near_garage(ap: AccessPoint) -> bool:
    if ap.near_garage is not None:
        return ap.near_garage
    if ap.distance_to_garage_m is not None:
        return ap.distance_to_garage_m <= NEAR_GARAGE_M
    return "garage" in ap.location.lower()


def _where(ap: AccessPoint) -> str:
    parts = [ap.name, ap.location or "location not given"]
    if ap.distance_to_garage_m is not None:
        parts.append(f"{ap.distance_to_garage_m:g} m from the garage")
    return ", ".join(parts)


def _ok(site: SiteNetwork) -> AuditFinding:
    checked = ", ".join(c.charger_id for c in site.chargers)
    return AuditFinding(
        code=Code.OK, severity=Severity.INFO, charger=None,
        summary=f"no known cause of a charger going offline found for {checked}",
        explanation="Checked: the SSID's bands against each charger's radio, WPA3 / transition / PMF / TKIP, MAC "
        "filters, mesh nodes near the garage, mDNS reflection between VLANs, DHCP reservations, and the "
        "blocklists against the CSMS host and the vendors' domains.",
        fix="Nothing to change. If a charger still drops, run `chargewise doctor explain CHARGER`.",
        source="connectivity.md §3 A-H",
        evidence=tuple(Evidence(origin=Origin(source=s, key="file"), value="read") for s in site.sources),
    )  # fmt: skip


def _bands(bands: frozenset[Band]) -> str:
    order = [Band.GHZ_2_4, Band.GHZ_5, Band.GHZ_6]
    return " + ".join(f"{b.value} GHz" for b in order if b in bands) or "no band"


def _wpa3(profile: Profile) -> str:
    return {Wpa3.UNRELIABLE: "unreliable WPA3", Wpa3.UNSUPPORTED: "no WPA3", Wpa3.UNKNOWN: "unknown WPA3 support",
            Wpa3.SUPPORTED: "WPA3"}[profile.wpa3]  # fmt: skip
