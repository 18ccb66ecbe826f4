"""What the doctor says, per cause: the explanation in plain words and the fix, as data. A rule picks the
entry for its cause and adds the numbers it saw (in the summary and the evidence). Sources: connectivity.md
3 A-J (the root causes and the fixes that worked in public issue threads) and 6 (signal -> cause).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chargewise.doctor.findings import Cause, Evidence, Finding


@dataclass(frozen=True, kw_only=True, slots=True)
class Advice:
    explanation: str
    fix: str


# the checks that tell causes apart (the other doctor commands), as a user types them
AUDIT = "chargewise doctor audit SITE_FILE"
PROBE = "chargewise doctor probe ws://HOST/ocpp/ID"
RF = "chargewise doctor rf PLAN_FILE"

ADVICE: dict[Cause, Advice] = {
    Cause.HEALTHY: Advice(
        explanation="The charger's connection looks fine: it stays connected, answers our pings and reports a "
        "usable Wi-Fi signal.",
        fix="Nothing to do.",
    ),
    Cause.WEAK_SIGNAL: Advice(  # connectivity.md 3 A, 1.5
        explanation="The Wi-Fi signal at the charger is too weak. Below about -75 dBm a 2.4 GHz radio loses "
        "packets and retries; a little fading is then enough to drop the connection, and the charger keeps "
        "going offline. Garage walls (concrete, cinderblock, a steel door) swallow most of the signal.",
        fix="Bring the Wi-Fi closer: a mesh node or access point inside or next to the garage, or a 2.4 GHz "
        "SSID on the nearest access point; a wired connection where the charger has one. Aim for -65 dBm or "
        f"better at the charger ({RF} predicts it).",
    ),
    Cause.VEHICLE_OBSTRUCTION: Advice(  # connectivity.md 0.3, 1.4
        explanation="The signal is fine while the garage is empty but drops when a car is parked at the "
        "charger: the car body stands between the charger and the Wi-Fi access point and costs about 5 to 15 "
        "dB. The connection then fails exactly while charging.",
        fix="Give the charger a path that does not cross the car: an access point or mesh node on the "
        "charger's side of the car, or mounted high (above the car's roof a car costs about 5 dB instead of "
        "9); or move the charger's antenna side away from where the car stands.",
    ),
    Cause.STICKY_CLIENT: Advice(  # connectivity.md 3 B
        explanation="The charger joined a far-away access point of your mesh (the signal dropped sharply and "
        "the access point changed) and stays on it: simple Wi-Fi chips take the first access point they hear "
        "and never roam back to the strong one nearby. Only a restart of the charger makes it choose again.",
        fix="Restart the charger next to a working garage node; to keep it from happening again, give the "
        "garage node its own 2.4 GHz SSID for the charger, or pin the charger to that node (BSSID) in the mesh "
        "settings.",
    ),
    Cause.WPA3_TRANSITION: Advice(  # connectivity.md 3 C, 4.4
        explanation="The charger dropped off the network and never tried to come back: it cannot join the "
        "Wi-Fi any more. The usual reason is a router change to WPA3 or WPA2/WPA3 transition mode (or "
        "protected management frames set to required), which many charger Wi-Fi chips cannot join. A power "
        "cut at the charger looks the same from here.",
        fix="Set the charger's SSID to WPA2-PSK (AES) only with PMF optional, or add a separate WPA2 SSID for "
        f"the charger; check the charger has power. {AUDIT} shows the security mode of each SSID.",
    ),
    Cause.KEEPALIVE_TIMEOUT: Advice(  # connectivity.md 3 D 17-23
        explanation="The connection dies whenever it has been quiet for a while: a router, LTE modem or "
        "firewall on the way forgets idle connections sooner than the charger sends its next message, so the "
        "link goes dead silently and the charger has to reconnect, over and over.",
        fix="Make the charger talk more often than the idle timer: lower its HeartbeatInterval (and set "
        "WebSocketPingInterval) below the idle time shown, or let the server ping more often; or raise the "
        "router's or firewall's idle timeout for established connections.",
    ),
    Cause.HALF_OPEN: Advice(  # connectivity.md 3 D 19-21
        explanation="The connection had been working, then went silent in both directions without being "
        "closed: typically the internet address changed (a router restart, a new address from the provider) "
        "and a firewall dropped the old connection without telling either side. The charger believed it was "
        "still connected until its own timers gave up.",
        fix="Let both ends notice dead links quickly: keep the server's ping on, set the charger's "
        "WebSocketPingInterval (about 30 s), and reserve a fixed address for the charger in the router.",
    ),
    Cause.DNS: Advice(  # connectivity.md 3 G
        explanation="The charger cannot find the server's address: an ad blocker (Pi-hole, AdGuard) lists "
        "the server's or vendor's name, the router's rebind protection drops a local answer, or the charger "
        "uses a hard-coded DNS server that does not know a local name.",
        fix=f"Run {PROBE} from the charger's network to see what the name resolves to; allow the server's "
        f"name in the blocklist ({AUDIT} checks the lists), or point the charger at an IP address.",
    ),
    Cause.TLS: Advice(  # connectivity.md 3 F, 2.3
        explanation="The charger refuses the server's certificate: it has expired, its chain is incomplete "
        "(a missing intermediate), it was issued by a root the charger does not ship, or the charger's clock "
        "is wrong so a valid certificate looks expired.",
        fix=f"Serve the full certificate chain and renew it before it expires; set the charger's clock (NTP); "
        f"{PROBE.replace('ws://', 'wss://')} shows the chain, the expiry and the clock difference.",
    ),
    Cause.FIRMWARE_NO_RECONNECT: Advice(  # connectivity.md 3 E 24-28
        explanation="The server closed the connection properly (for example while restarting) and the charger "
        "never came back. Some charger firmware forgets to reconnect after a clean close and stays offline "
        "until it is restarted.",
        fix="Restart the charger (breaker or its app) and ask the vendor for a firmware update; meanwhile "
        "avoid server restarts or restart the charger after each one.",
    ),
    Cause.SERVER_PACING: Advice(  # connectivity.md 3 I
        explanation="Our server is part of the problem: it sends the charger commands faster than the "
        "charger answers them, its calls time out, and the charger's connection suffers under the load.",
        fix="Slow down what the server sends this charger (fewer triggered messages, longer call timeouts, one "
        "command at a time); check automations that poll the charger.",
    ),
    Cause.CREDENTIALS: Advice(  # wrong URL or credentials: the handshake reaches us and is refused
        explanation="The charger reaches the server but the server refuses its handshake: the charger id in "
        "the URL, the password or the OCPP version it asks for does not match what is registered here.",
        fix="Compare the charger's OCPP settings with the server: the URL must end in /ocpp/ID with the id "
        "shown here, the password must match, and the OCPP version must be 1.6 or 2.0.1.",
    ),
}


def finding(
    cause: Cause,
    confidence: float,
    summary: str,
    evidence: Iterable[Evidence] = (),
    *,
    explanation: str | None = None,
    tells_apart: Iterable[str] = (),
) -> Finding:
    """A finding for ``cause`` with its standard explanation (or ``explanation``) and fix."""
    advice = ADVICE[cause]
    return Finding(
        cause=cause,
        confidence=round(min(1.0, max(0.0, confidence)), 2),
        summary=summary,
        explanation=explanation or advice.explanation,
        fix=advice.fix,
        evidence=tuple(evidence),
        tells_apart=tuple(tells_apart),
    )
