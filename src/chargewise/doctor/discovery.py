"""Does multicast DNS discovery reach the charger's network? Pure: the announcements a browse heard, this
machine's addresses and the charger's subnet in; verdicts out (connectivity.md §3 H, §4.2).

mDNS (224.0.0.251:5353) never leaves its link: a charger on an IoT VLAN hears a server on another subnet only
when the router reflects the announcements (Avahi's reflector, an mDNS repeater). So the browse must run from
a machine on the charger's network, and what it hears is compared with the charger's subnet.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from chargewise.doctor.probe import ProbeInputError, Status

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PRODUCT = "chargewise"  # the TXT product= value our server announces
# connectivity.md §4.2 (router-side knobs), §3 H #43-44 (reflector limits)
REFLECTOR_FIX = (
    "Let the router reflect mDNS between the chargers' VLAN and the server's: Avahi `[reflector] "
    "enable-reflector=yes` with allow-interfaces naming both, the OPNsense avahi-reflector plugin or "
    "mdns-repeater, the pfSense Avahi package, or UniFi's per-network multicast DNS setting. Or skip discovery: "
    "give the charger the server's IP address (a DHCP reservation keeps it fixed) and check it with "
    "`chargewise doctor probe`."
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Announcement:
    """One DNS-SD service instance a browse resolved."""

    type: str  # "_ocpp._tcp.local."
    name: str  # "chargewise on garage-pi (9000)._ocpp._tcp.local."
    server: str = ""  # the host name it points to ("garage-pi.local.")
    port: int = 0
    addresses: tuple[str, ...] = ()
    txt: tuple[tuple[str, str], ...] = ()

    @property
    def ours(self) -> bool:
        return dict(self.txt).get("product") == PRODUCT


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    status: Status
    summary: str
    problem: str | None = None
    explanation: str = ""
    fix: str = ""


def parse_network(text: str) -> Network:
    """``--charger-ip``: an address (its /24, the usual home subnet) or a subnet in CIDR notation."""
    value = text.strip()
    if "/" not in value:
        value += "/24" if ":" not in value else "/64"
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ProbeInputError(
            f"--charger-ip {text!r} must be the charger's address or subnet, e.g. 192.168.20.31 or 192.168.20.0/24"
        ) from None


def assess(
    found: tuple[Announcement, ...], *, local: tuple[str, ...], charger_net: Network | None, waited_s: float
) -> tuple[Verdict, ...]:
    """What the browse says about discovery from here, and from the charger's subnet when it is given."""
    verdicts = [v for a in found if a.ours for v in _records(a)]
    servers = [a for a in found if a.ours and a.type.startswith("_ocpp.")]
    here = [a for a in local if not ipaddress.ip_address(a).is_loopback] or list(local)
    if charger_net is not None and not any(ipaddress.ip_address(a) in charger_net for a in local):
        verdicts.append(
            Verdict(
                status=Status.WARN,
                problem="not_on_charger_network",
                summary=f"this machine ({', '.join(here)}) is not in the charger's subnet {charger_net}",
                explanation="mDNS stays on its own link, so what this machine hears says nothing "
                "about what the charger hears.",
                fix="Run the check from a machine (or a laptop on the same SSID) in the charger's subnet.",
            )
        )
        return tuple(verdicts)
    if not servers:
        verdicts.append(_none_heard(charger_net, waited_s))
        return tuple(verdicts)
    for server in servers:
        verdicts.append(_reach(server, charger_net))
    return tuple(verdicts)


def _none_heard(charger_net: Network | None, waited_s: float) -> Verdict:
    where = f"the charger's subnet {charger_net}" if charger_net else "this network"
    return Verdict(
        status=Status.FAIL,
        problem="mdns_not_reflected" if charger_net else "mdns_none",
        summary=f"no chargewise server announced itself to {where} within {waited_s:g} s",
        explanation="Either no server runs with mDNS (chargewise serve --mdns), or it runs on another subnet "
        "and the router does not pass multicast DNS between them: announcements never leave their own VLAN, so "
        "apps and chargers there cannot discover the server even though they may reach its IP address.",
        fix=REFLECTOR_FIX,
    )


def _reach(server: Announcement, charger_net: Network | None) -> Verdict:
    addresses = [ipaddress.ip_address(a) for a in server.addresses]
    listed = ", ".join(server.addresses) or "no address"
    at = f"{server.name.split('._', 1)[0]} at {listed} port {server.port}"
    if charger_net is None or not addresses:
        return Verdict(status=Status.OK, summary=f"heard {at}")
    if any(a in charger_net for a in addresses):
        return Verdict(status=Status.OK, summary=f"heard {at}: the server is on the charger's subnet {charger_net}")
    return Verdict(
        status=Status.OK,
        problem="mdns_reflected",
        summary=f"heard {at} from outside the charger's subnet {charger_net}: discovery crosses the VLANs",
        explanation="The announcement of a server on another subnet reaches the charger's network, so a "
        "reflector or repeater forwards mDNS. Discovery alone does not open the path: the charger must also be "
        f"allowed to reach {listed} on TCP port {server.port}.",
        fix=f"Check the path with `chargewise doctor probe ws://{server.addresses[0]}:{server.port}/ocpp/ID` from "
        "the charger's network.",
    )


def _records(announcement: Announcement) -> list[Verdict]:
    """Record-level faults seen in the field (connectivity.md §3 H #40, #41; §4.2)."""
    name = announcement.name.split("._", 1)[0]
    v4 = [a for a in announcement.addresses if ipaddress.ip_address(a).version == 4]
    if not v4:
        return [
            Verdict(
                status=Status.WARN,
                problem="mdns_no_ipv4",
                summary=f"{name} announces no IPv4 address",
                explanation="Many chargers and apps only use IPv4; a record without an A address leaves "
                "them nothing to connect to (evcc#15651).",
                fix="Serve on an IPv4 address (serve --host) or check the host's interfaces.",
            )
        ]
    if len(v4) > 1:
        return [
            Verdict(
                status=Status.WARN,
                problem="mdns_many_addresses",
                summary=f"{name} announces {len(v4)} IPv4 addresses ({', '.join(v4)})",
                explanation="A client picks one of them, possibly one it cannot reach (a container or VPN "
                "interface, hassio-addon#99).",
                fix="Bind the server to the address chargers should use (serve --host IP).",
            )
        ]
    return []
