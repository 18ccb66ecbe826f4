"""The probe's verdicts: one pure function per step, an observation in, a :class:`Step` (status, explanation,
fix) out. Facts cite ``connectivity.md`` (the project's domain notes) by section, and the OCPP specs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from chargewise.doctor.probe import BootAnswer, DnsAnswer, Status, Step, Target, TcpAttempt, Upgrade, describe_span

StepMaker = Callable[..., Step]  # Step with the step's name, time and details already given

# Names that are not in the public DNS (RFC 6761 special-use names, RFC 8375 home.arpa, and the suffixes home
# routers hand out); a private answer for them is expected, for a public name it is not (connectivity.md §3 G #38).
LOCAL_SUFFIXES = (
    ".local",
    ".lan",
    ".home",
    ".home.arpa",
    ".internal",
    ".localdomain",
    ".test",
    ".localhost",
    ".example",
    ".invalid",
    ".intranet",
    ".corp",
    ".fritz.box",
)
# what dnsmasq's rebind protection discards from upstream: RFC 1918, link-local and unique-local addresses
REBIND_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10")
)
SINKHOLE_ANSWERS = {"0.0.0.0", "::"}  # hosts-style blocklists answer these (connectivity.md §4.1)
CLOCK_SKEW = timedelta(minutes=5)  # beyond this the server's clock is worth a word (chargers set theirs from it)


def is_public_name(host: str) -> bool:
    """A name a public resolver answers for (has a dot, no local or special-use suffix)."""
    name = host.lower().rstrip(".")
    return "." in name and not name.endswith(LOCAL_SUFFIXES)


# ---------------------------------------------------------------------- DNS (connectivity.md §3 G, §4.1)
def explain_dns(answer: DnsAnswer) -> Step:
    """Judge the lookup of the URL's host name as a charger's resolver would have answered it."""
    who = f"{answer.server} ({answer.source})" if answer.server else answer.source
    step = partial(
        Step,
        name="dns",
        elapsed_s=answer.elapsed_s,
        details=(("server", who), ("addresses", ", ".join(answer.addresses)), ("rcode", answer.rcode)),
    )
    if answer.rcode == "LITERAL":
        return step(status=Status.OK, summary=f"{answer.host} is an address: no DNS lookup")
    if answer.rcode == "TIMEOUT":
        return step(
            status=Status.FAIL,
            problem="dns_timeout",
            summary=f"no DNS answer for {answer.host} from {who}",
            explanation=f"{who} did not answer in time ({answer.error or 'timeout'}). A charger asking the same "
            "resolver cannot find its CSMS and never opens a connection: the server sees nothing at all.",
            fix="Check the resolver address the router hands out (DHCP option 6) and that the charger's network may "
            "reach it on UDP and TCP port 53; some chargers use a hardcoded resolver such as 8.8.8.8 "
            "(MicroOcpp#415), which a firewall blocking outbound DNS silences.",
        )
    if answer.rcode == "NXDOMAIN":
        return step(
            status=Status.FAIL,
            problem="dns_nxdomain",
            summary=f"{answer.host} does not exist according to {who}",
            explanation=f"{who} answered NXDOMAIN: it knows no name {answer.host}. Local names (.lan, .home) exist "
            "only on the router's resolver, and a charger with a hardcoded public resolver cannot see them; a "
            ".local name is multicast DNS, which unicast DNS does not answer.",  # connectivity.md §3 G #35, #37
            fix="Check the spelling of the host in the charger's URL. For a local server use its IP address (or a "
            "DHCP reservation and the IP), or a public DNS name that resolves to it.",
        )
    if answer.rcode != "NOERROR":
        return step(
            status=Status.FAIL,
            problem="dns_error",
            summary=f"{who} answered {answer.rcode} for {answer.host}",
            explanation=f"The resolver failed the lookup ({answer.rcode}{': ' + answer.error if answer.error else ''}"
            "): it could not reach the name's servers, or refuses to resolve for this network.",
            fix="Try another resolver with --dns-server to tell a broken resolver from a broken name; fix or "
            "replace the resolver the charger's network uses.",
        )
    if not answer.addresses:
        return step(
            status=Status.FAIL,
            problem="dns_no_address",
            summary=f"{who} knows {answer.host} but gave no address",
            explanation='The name exists but has no A or AAAA record ("answer with no data", ha-evcc#116): a '
            "charger has nothing to connect to.",
            fix="Add an A record for the host (or use the server's IP address in the charger's URL).",
        )
    return _judge_addresses(answer, who, step)


def _judge_addresses(answer: DnsAnswer, who: str, step: StepMaker) -> Step:
    addresses = [ipaddress.ip_address(a) for a in answer.addresses]
    listed = ", ".join(answer.addresses)
    public = is_public_name(answer.host)
    if any(a.compressed in SINKHOLE_ANSWERS for a in addresses) or (public and all(a.is_loopback for a in addresses)):
        return step(
            status=Status.FAIL,
            problem="dns_sinkhole",
            summary=f"{who} answered {listed} for {answer.host}: a DNS sinkhole blocks it",
            explanation=f"{listed} is what a blocking resolver (Pi-hole, AdGuard Home, a hosts-style blocklist) "
            "answers for a name on its list. A charger given this answer connects to "  # connectivity.md §4.1, §3 G #36
            "nothing; a cloud-managed one may even stop charging when it loses its backend.",
            fix=f"Allow {answer.host} in the sinkhole (Pi-hole: add it to the allowlist; AdGuard Home: a rule "
            f"@@||{answer.host}^), or give the chargers' network a resolver without blocklists; "
            "`chargewise doctor audit` finds the blocking rule in an exported list.",
        )
    if any(a.is_loopback for a in addresses):
        return step(
            status=Status.WARN,
            problem="dns_loopback",
            summary=f"{answer.host} → {listed} (answered by {who}): only this machine",
            explanation="A loopback address reaches the machine that asks: this probe reaches the server, a "
            "charger would try to connect to itself.",
            fix="Give the charger a name (or the IP address) that resolves to the server's LAN address.",
        )
    if public and all(any(a in net for net in REBIND_NETS) for a in addresses):
        return step(
            status=Status.WARN,
            problem="dns_private_answer",
            summary=f"public name {answer.host} resolves to private {listed}",
            explanation="This resolver returned a private (RFC 1918) address for a public name. Routers with "
            "DNS-rebind protection discard exactly such answers from upstream (OpenWrt dnsmasq rebind_protection=1 "
            "by default), so a charger behind one gets no address although this probe "  # connectivity.md §3 G #38
            "did.",
            fix=f"If the charger fails to connect, allow the name on the router (OpenWrt: list rebind_domain "
            f"'{answer.host}'), or probe again with --dns-server set to the resolver the charger uses.",
        )
    return step(status=Status.OK, summary=f"{answer.host} → {listed} (answered by {who})")


# ---------------------------------------------------------------------- TCP
def explain_tcp(attempts: tuple[TcpAttempt, ...], target: Target) -> Step:
    """Judge the TCP connect to the resolved addresses, tried in order as a charger tries them."""
    details = tuple(
        (f"{a.address}:{a.port}", f"{a.outcome} {a.elapsed_s * 1000:.0f} ms {a.error}".strip()) for a in attempts
    )
    elapsed = sum(a.elapsed_s for a in attempts)
    connected = next((a for a in attempts if a.outcome == "connected"), None)
    if connected is not None:
        return Step(
            name="tcp",
            status=Status.OK,
            elapsed_s=connected.elapsed_s,
            details=details,
            summary=f"connected to {connected.address}:{connected.port}",
        )
    last = attempts[-1] if attempts else TcpAttempt(address=target.host, port=target.port, outcome="error")
    where = f"{last.address}:{last.port}"
    implied = (
        ""
        if target.port_given
        else (
            f" The URL gives no port, so {target.port} is used ({'wss' if target.secure else 'ws'}:// default); "
            "chargewise serves OCPP on 9000 unless told otherwise, and some chargers add :443 on their own "
            "(netzero#117)."  # connectivity.md §3 F #31
        )
    )
    if last.outcome == "refused":
        return Step(
            name="tcp",
            status=Status.FAIL,
            problem="tcp_refused",
            elapsed_s=elapsed,
            details=details,
            summary=f"{where} refused the connection",
            explanation=f"The machine at {last.address} answered, but nothing listens on port {last.port}." + implied,
            fix="Start the server (`chargewise serve` prints its OCPP URL), or correct the port in the charger's URL.",
        )
    if last.outcome == "timeout":
        return Step(
            name="tcp",
            status=Status.FAIL,
            problem="tcp_timeout",
            elapsed_s=elapsed,
            details=details,
            summary=f"no answer from {where}",
            explanation="The connection attempt got no answer at all: a firewall drops it (often between an IoT "
            "VLAN and the server's network), the address is wrong, or the server is down behind NAT." + implied,
            fix=f"Allow TCP port {last.port} from the chargers' network to the server, and check the address.",
        )
    return Step(
        name="tcp",
        status=Status.FAIL,
        problem="tcp_unreachable",
        elapsed_s=elapsed,
        details=details,
        summary=f"cannot reach {where}: {last.error or last.outcome}",
        explanation="This machine has no route to that address (or the network refused the packet).",
        fix="Check the address in the URL and that this machine is on the charger's network.",
    )


# ---------------------------------------------------------------------- WebSocket upgrade (OCPP-J §3.1.2)
def explain_upgrade(upgrade: Upgrade, target: Target, *, password_given: bool) -> Step:
    """Judge the HTTP upgrade: 101 with the offered OCPP subprotocol echoed, or the reason it was refused."""
    details = (
        ("offered", upgrade.offered),
        ("answered", upgrade.answered or "(none)"),
        ("http status", str(upgrade.status or "")),
        ("server says", upgrade.reason),
    )
    step = partial(Step, name="websocket", elapsed_s=upgrade.elapsed_s, details=details)
    said = f' The server says: "{upgrade.reason}".' if upgrade.reason else ""
    if upgrade.status is None:
        return step(
            status=Status.FAIL,
            problem="ws_no_response",
            summary=f"no upgrade response ({upgrade.error or 'connection closed'})",
            explanation="The server accepted the connection but sent no HTTP response to the upgrade: it "
            "is not a web server on this port, or it closed the link.",
            fix="Check the port (the OCPP port, not the REST port) and the server's log.",
        )
    if upgrade.status == 101:
        return _judge_subprotocol(upgrade, step)
    return _judge_refusal(upgrade, target, step, said, password_given=password_given)


def _judge_subprotocol(upgrade: Upgrade, step: StepMaker) -> Step:
    other = "2.0.1" if upgrade.offered == "ocpp1.6" else "1.6"
    if upgrade.answered == upgrade.offered:
        return step(status=Status.OK, summary=f"upgraded to a WebSocket, subprotocol {upgrade.answered}")
    # OCPP 2.0.1 Part 4 §3.1.2 (and OCPP-J 1.6 §3.1.2): a CSMS that speaks none of the offered versions completes
    # the handshake without Sec-WebSocket-Protocol and closes; a charger must not use a protocol it did not offer.
    if upgrade.answered is None:
        return step(
            status=Status.FAIL,
            problem="subprotocol_missing",
            summary=f"the server upgraded without the subprotocol {upgrade.offered}",
            explanation=f"We offered {upgrade.offered} and the answer carries no Sec-WebSocket-Protocol header. By "
            "the OCPP-J rules that means the server does not speak this OCPP version (or is no OCPP server at "
            "all); a charger closes the link and retries, so the server shows it connecting and vanishing.",
            fix=f"Configure the charger and the server for the same OCPP version (probe with --ocpp {other} to see "
            "whether the server speaks that), and check the URL path leads to the OCPP endpoint.",
        )
    return step(
        status=Status.FAIL,
        problem="subprotocol_mismatch",
        summary=f"the server chose {upgrade.answered}, which we did not offer",
        explanation=f"We offered only {upgrade.offered}; the server answered {upgrade.answered}. A charger must "
        "refuse a subprotocol it did not offer, so the link fails right after the upgrade.",
        fix=f"Set the charger to the version the server speaks ({upgrade.answered}) or make the server accept "
        f"{upgrade.offered}.",
    )


def _judge_refusal(upgrade: Upgrade, target: Target, step: StepMaker, said: str, *, password_given: bool) -> Step:
    status, cid = upgrade.status, target.charger_id
    if status == 401:
        why = "refused the password given for" if password_given else "wants a password for"
        return step(
            status=Status.FAIL,
            problem="unauthorized",
            summary=f"401: the server {why} {cid}",
            explanation=f"HTTP Basic authentication (OCPP security profile 1/2) failed: the user name is the charger "
            f"id {cid!r} and the password must be the one stored on the server for it.{said}",
            fix=f"Enter the same password in the charger and on the server (`chargewise chargers set-password {cid} "
            "PASSWORD`), and probe with --password to check it.",
        )
    if status == 404:
        return step(
            status=Status.FAIL,
            problem="not_found",
            summary=f"404: wrong path or unknown charger id {cid!r}",
            explanation=f"The server has no OCPP endpoint at {target.resource}, or does not know the charger id "
            f"(ids are case-sensitive).{said}",
            fix="Check the path (chargewise: /ocpp/CHARGER_ID) and the id's spelling; add the charger on the server "
            f"(`chargewise chargers add {cid}`) or let it admit unknown chargers as Pending.",
        )
    if status == 403:
        return step(
            status=Status.FAIL,
            problem="forbidden",
            summary=f"403: the server refuses {cid} on this link",
            explanation=f"The server knows the charger but not on these terms (security profile, client "
            f"certificate, or the charger is blocked).{said}",
            fix="Use the security profile registered for the charger (wss:// and its client certificate "
            "for profile 3), or change its registration on the server.",
        )
    if status == 429 or status == 503:
        wait = f" (retry after {upgrade.retry_after} s)" if upgrade.retry_after else ""
        return step(
            status=Status.FAIL,
            problem="throttled",
            summary=f"{status}: the server asks to come back later{wait}",
            explanation=f"The server is refusing new links for now: too many failed passwords for this id "
            f"or address, or too many unknown chargers at once.{said}",
            fix=f"Wait{wait} and fix the password of whatever keeps failing (the server log names it).",
        )
    if status == 400:
        return step(
            status=Status.FAIL,
            problem="bad_request",
            summary="400: the server refused the upgrade request",
            explanation=f"The server found the request itself wrong: often no OCPP version it speaks was "
            f"offered ({upgrade.offered}), or the charger id breaks its rules.{said}",
            fix="Try the other OCPP version with --ocpp, and an id of letters, digits and - _ . only.",
        )
    return step(
        status=Status.FAIL,
        problem="not_websocket",
        summary=f"HTTP {status}: no WebSocket endpoint here",
        explanation=f"A web server answered, but not with a WebSocket upgrade: the port may be the REST or "
        f"dashboard port, or a proxy in front does not pass WebSockets on.{said}",
        fix="Use the OCPP port in the URL (chargewise prints it at start: OCPP ws://...:9000/ocpp/...), or "
        "let the proxy forward Upgrade/Connection headers.",
    )


# ---------------------------------------------------------------------- BootNotification
def explain_boot(answer: BootAnswer, target: Target, *, now: datetime) -> Step:
    """Judge the server's answer to our BootNotification (OCPP 1.6 §4.2 / 2.0.1 B01)."""
    details = (
        ("status", answer.status or ""),
        ("interval", "" if answer.interval is None else f"{answer.interval} s"),
        ("server time", answer.current_time.isoformat() if answer.current_time else ""),
    )
    step = partial(Step, name="boot", elapsed_s=answer.elapsed_s, details=details)
    cid = target.charger_id
    if answer.call_error is not None:
        return step(
            status=Status.FAIL,
            problem="boot_call_error",
            summary=f"the server answered BootNotification with a CallError: {answer.call_error}",
            explanation="The server refused the message itself; a charger would repeat it and never start.",
            fix="Check the OCPP version setting on both sides; the server log has the details.",
        )
    if answer.status is None:
        what = f"closed the link (code {answer.close_code})" if answer.close_code else (answer.error or "no answer")
        return step(
            status=Status.FAIL,
            problem="boot_no_answer",
            summary=f"no BootNotification answer: {what}",
            explanation="The WebSocket is up but the server did not answer the charger's first message "
            "in time: it is overloaded, does not handle this OCPP version, or dropped the link.",
            fix="Look at the server's log for this charger id; a longer --timeout tells slow from silent.",
        )
    interval = f", heartbeat every {answer.interval} s" if answer.interval is not None else ""
    if answer.status == "Pending":
        return step(
            status=Status.WARN,
            problem="boot_pending",
            summary=f"Pending{interval}: the server knows {cid} but has not approved it",
            explanation="The link works; the server keeps the charger waiting until an operator approves "
            "it, and the charger boots again after the interval.",
            fix=f"Approve it: `chargewise chargers approve {cid}` (or in the dashboard).",
        )
    if answer.status == "Rejected":
        return step(
            status=Status.FAIL,
            problem="boot_rejected",
            summary=f"Rejected{interval}: the server refuses {cid}",
            explanation="The server answered but will not let this charger in; it retries after the "
            "interval and is refused again.",
            fix=f"Approve it on the server (`chargewise chargers approve {cid}`) or correct the id.",
        )
    skew = None if answer.current_time is None else abs(answer.current_time - now)
    if skew is not None and skew > CLOCK_SKEW:
        return step(
            status=Status.WARN,
            problem="server_clock",
            summary=f"{answer.status}{interval}; the server's clock is {describe_span(skew)} off this machine's",
            explanation="Chargers often set their clock from the BootNotification answer; a wrong server "
            "clock spreads to meter values, transactions and certificate checks.",
            fix="Run NTP on the server (and on this machine, if it is this one that is off).",
        )
    return step(status=Status.OK, summary=f"{answer.status}{interval}")
