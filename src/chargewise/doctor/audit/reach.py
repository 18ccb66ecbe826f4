"""Rules on reaching the charger and its servers once it is on Wi-Fi: mDNS across VLANs, a fixed address, DNS.

Facts: connectivity.md §3 G (DNS sinkholes, cloud dependency), §3 H and §4.2 (mDNS reflection), §4.1 (list
semantics), §3 D20 and §4.3 (DHCP static leases), and the seed's VLAN and DHCP/DNS sections.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from chargewise.doctor.audit.blocklist import Decision, decide
from chargewise.doctor.audit.findings import AuditFinding, Code, Evidence, Severity
from chargewise.doctor.audit.models import PROFILES
from chargewise.doctor.audit.network import Charger, Origin, Sinkhole, SiteNetwork, Ssid, Vlan

# A name standing for "any subdomain" when testing rules (a wildcard or regex rule may block them all).
PROBE_LABEL = "chargewise-audit-probe"
MAX_EVIDENCE = 8


def charger_vlan(site: SiteNetwork, charger: Charger, usable: list[Ssid]) -> str | None:
    """The VLAN the charger lands in: its own ``vlan``, else its SSID's, else the VLAN that lists the SSID."""
    if charger.vlan:
        return charger.vlan
    named = next((s.vlan for s in usable if s.vlan), None)
    return named or next((v.name for v in site.vlans if charger.ssid in v.ssids), None)


def mdns_finding(site: SiteNetwork, charger: Charger, usable: list[Ssid]) -> Iterator[AuditFinding]:
    """Seed (VLANs and mDNS), §3 H, §4.2: multicast does not cross VLANs unless a reflector bridges them."""
    own = charger_vlan(site, charger, usable)
    if own is None:
        return
    for role, other in (("the phones with the vendor app", site.app_vlan), ("the backend", site.csms_vlan)):
        if not other or other == own:
            continue
        a, b = site.vlan(own), site.vlan(other)
        if a and b and a.mdns_reflection and b.mdns_reflection:
            continue
        yield AuditFinding(
            code=Code.MDNS_NOT_REFLECTED, severity=Severity.WARNING, charger=charger.charger_id,
            summary=f'VLAN "{own}" (the charger) and "{other}" ({role}) are not bridged for mDNS',
            explanation="mDNS (Bonjour) does not cross VLAN boundaries: the app or backend on the other VLAN cannot "
            "discover the charger for provisioning or local control, although the charger itself is online.",
            fix=f'Reflect mDNS between "{own}" and "{other}": avahi-daemon enable-reflector=yes with both interfaces, '
            "the pfSense Avahi package, the OPNsense avahi-reflector or mdns-repeater plugin, or UniFi's Multicast "
            "DNS on both networks; then set mdns_reflection = true on both VLANs here.",
            source="connectivity.md §3 H43-H44, §4.2 (router-side knobs); seed: VLANs, SSIDs and mDNS",
            evidence=tuple(_vlan_evidence(v, name, site) for v, name in ((a, own), (b, other))),
        )  # fmt: skip


def _vlan_evidence(vlan: Vlan | None, name: str, site: SiteNetwork) -> Evidence:
    if vlan is None:
        origin = Origin(source=site.sources[0] if site.sources else "site file", key="vlans")
        return Evidence(origin=origin, value=f'"{name}" not declared: no reflector known')
    state = f"mdns_reflection {'on' if vlan.mdns_reflection else 'off'} ({vlan.reflector.value})"
    state += f", {vlan.note}" if vlan.note else ""
    return Evidence(origin=vlan.origin, value=f'"{name}": {state}')


def reservation_finding(site: SiteNetwork, charger: Charger) -> Iterator[AuditFinding]:
    """Seed (DHCP): a shifting IP plus stateful firewall rules drops the returning WebSocket; §3 D20, §4.3."""
    if any(r.mac == charger.mac for r in site.reservations):
        return
    read = sorted({r.origin.source for r in site.reservations})
    yield AuditFinding(
        code=Code.NO_DHCP_RESERVATION, severity=Severity.WARNING, charger=charger.charger_id,
        summary=f"no DHCP reservation for the charger's MAC {charger.mac}",
        explanation="Without a fixed lease the charger's address can change; firewall rules, port forwards and "
        "stateful inspection keyed on the old address then drop its traffic, and a half-open WebSocket is "
        "left behind (SmartEVSE#202).",
        fix=f"Reserve an address for {charger.mac} (OpenWrt: config host with option mac and option ip in "
        "/etc/config/dhcp; UniFi: fixed IP on the client; or [[dhcp.reservations]] here if it is set elsewhere).",
        source="connectivity.md §3 D20, §4.3 (/etc/config/dhcp config host); seed: DHCP, DNS and telemetry",
        evidence=(Evidence(origin=charger.origin, value=f"mac {charger.mac}; {len(site.reservations)} reservations "
                           f"known ({', '.join(read) or 'none declared or read'})"),),
    )  # fmt: skip


def domain_findings(site: SiteNetwork) -> Iterator[AuditFinding]:
    """§3 G36, §4.1, seed: a sinkhole that blocks the CSMS or the vendor cloud cuts the charger off."""
    sinkhole = site.sinkhole
    if sinkhole is None or not sinkhole.blocklists:
        return
    if site.csms_host and not _is_ip(site.csms_host):
        decision = decide(site.csms_host, sinkhole.blocklists, sinkhole.allow)
        if decision.blocked:
            yield _blocked(None, site.csms_host, [decision], "the CSMS host", error=True)
    for charger in site.chargers:
        profile = PROFILES[charger.model]
        for domain in profile.domains:
            blocked = [d for d in _decisions(sinkhole, domain) if d.blocked]
            if blocked:
                wide = any(d.host in (domain, f"*.{domain}") for d in blocked)
                yield _blocked(charger.charger_id, domain, blocked, f"the {profile.name} cloud",
                               error=wide or profile.cloud_needed_to_charge)  # fmt: skip


def _decisions(sinkhole: Sinkhole, domain: str) -> list[Decision]:
    names = {domain, f"{PROBE_LABEL}.{domain}"}
    for blocklist in sinkhole.blocklists:
        names |= blocklist.names_under(domain)
    decisions = []
    for name in sorted(names, key=lambda n: (n.count("."), n)):
        decision = decide(name, sinkhole.blocklists, sinkhole.allow)
        shown = f"*.{domain}" if name.startswith(PROBE_LABEL + ".") else name
        decisions.append(Decision(host=shown, blocked=decision.blocked, rule=decision.rule))
    return decisions


def _blocked(charger: str | None, domain: str, blocked: list[Decision], what: str, *, error: bool) -> AuditFinding:
    names = ", ".join(d.host for d in blocked[:MAX_EVIDENCE]) + (" ..." if len(blocked) > MAX_EVIDENCE else "")
    evidence = []
    for d in blocked[:MAX_EVIDENCE]:
        assert d.rule is not None  # a blocked decision always names its rule
        note = f" ({d.rule.note})" if d.rule.note else ""
        evidence.append(Evidence(origin=Origin(source=d.rule.source, key="rule", line=d.rule.line),
                                 value=f"{d.host} blocked by {d.rule.text}{note}"))  # fmt: skip
    first = blocked[0].rule
    assert first is not None
    return AuditFinding(
        code=Code.DOMAIN_BLOCKED, severity=Severity.ERROR if error else Severity.WARNING, charger=charger,
        summary=f"{what} ({names}) is blocked by {first.source} line {first.line}: {first.text}",
        explanation="The charger joins Wi-Fi but cannot resolve its server, so it fails its keep-alive and shows "
        "offline; a charger whose cloud sets the current (Enel X: 0 A when offline) may stop charging.",
        fix=f"Allow {domain} and its subdomains in the sinkhole (Pi-hole: allowlist *.{domain} as a regex or "
        f"exact entries; AdGuard Home: add @@||{domain}^ to the user rules), or remove that rule from the list.",
        source="connectivity.md §3 G36, §4.1 (list formats and precedence); seed: DHCP, DNS and telemetry blocking",
        evidence=tuple(evidence),
    )  # fmt: skip


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
