"""DNS sinkhole blocklists (Pi-hole gravity / AdGuard Home): parse the text, then ask which rule blocks a host.

Formats (connectivity.md §4.1, from the AdGuard Home wiki "Hosts Blocklists" and the FilterLists syntax wiki):

- hosts lines ``0.0.0.0 ads.example.org`` (any IP first, several names allowed, ``#`` comments): the exact
  name only, not its subdomains (AdGuardHome#3998; Pi-hole gravity entries are exact too);
- domains-only lines ``ads.example.org``: exact, like hosts lines;
- adblock rules: ``||example.org^`` the domain and every subdomain, ``|example.org^`` exact, ``*`` wildcards,
  ``@@`` in front for an exception (allow), ``/regex/`` matched against the host name;
- modifiers: ``$important`` (beats exceptions), ``$client`` / ``$ctag`` (only some clients: still reported),
  ``$denyallow=a|b`` (not for those domains), ``$dnstype`` / ``$dnsrewrite`` (reported as blocking);
  ``$badfilter`` and browser-only modifiers (``$script``, ``$third-party``, ...) make AdGuard Home skip the
  rule, so they are skipped here; cosmetic rules (``##``) mean nothing to DNS and are skipped.

Precedence when several rules match (AdGuard Home's, §4.1): ``$important`` block > exception > block.

Why not a library (evaluated for this module): ``adblock`` 0.6.0 (Brave's adblock-rust bindings) matches URLs
with a browser's semantics: loaded with ``format="hosts"`` it turns ``0.0.0.0 a.example`` into ``||a.example^``
and so also blocks ``sub.a.example``, which AdGuard Home does not (AdGuardHome#3998); a host-anchored regex
``/^telemetry[0-9]*[.]vendor[.]com$/`` never matches because it is tested against ``https://host/``; and its
result names the rule text but not the list line a finding must show. ``braveblock`` wraps the same engine;
``adblockparser`` (last release 2016) and ``python-abp`` (2020) parse or match browser rules, not hosts files.
§4.1 recommends the same: a small host-name parser with suffix matching.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass, field

_DOMAIN = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)+\.?")
_PATTERN = re.compile(r"[a-z0-9_.*|^-]+")
_SINK_IPS = {"0.0.0.0", "127.0.0.1", "::", "::1"}  # the usual first column, known without parsing
_DNS_MODIFIERS = {"important", "client", "ctag", "denyallow", "dnstype", "dnsrewrite"}
_HOSTS_LOCAL = {"localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost", "ip6-loopback",
                "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters", "ip6-allhosts",
                "0.0.0.0"}  # fmt: skip


class Action(enum.StrEnum):
    BLOCK = "block"
    ALLOW = "allow"


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    action: Action
    text: str  # the line as written
    source: str  # the list's path as the site file names it
    line: int
    important: bool = False
    note: str = ""  # "applies to some clients only ($client)", ...
    denyallow: tuple[str, ...] = ()

    def excludes(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.denyallow)


@dataclass(kw_only=True, slots=True)
class Blocklist:
    """One parsed list. Build with :func:`parse_blocklist`; ask :meth:`matches` or :func:`decide`."""

    source: str
    hosts: dict[str, tuple[int, str]] = field(default_factory=dict)  # hosts-line name -> (line, text), kept lean
    exact: dict[str, list[Rule]] = field(default_factory=dict)
    suffix: dict[str, list[Rule]] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], Rule]] = field(default_factory=list)
    rules: int = 0  # lines read as rules (a hosts line with several names counts once)
    skipped: int = 0  # lines that are rules for browsers, not for a DNS sinkhole

    def matches(self, host: str) -> list[Rule]:
        host = host.lower().rstrip(".")
        found = list(self.exact.get(host, ()))
        if host in self.hosts:
            number, text = self.hosts[host]
            found.append(Rule(action=Action.BLOCK, text=text, source=self.source, line=number))
        labels = host.split(".")
        for i in range(len(labels)):
            found.extend(self.suffix.get(".".join(labels[i:]), ()))
        found.extend(rule for regex, rule in self.patterns if regex.search(host))
        return [rule for rule in found if not rule.excludes(host)]

    def names_under(self, domain: str) -> set[str]:
        """The host names this list spells out at or below ``domain`` (candidates a vendor may use)."""
        tail = "." + domain
        return {name for name in (*self.hosts, *self.exact, *self.suffix) if name == domain or name.endswith(tail)}


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    host: str
    blocked: bool
    rule: Rule | None = None  # the rule that decided (a block, or the exception that won)


def decide(host: str, lists: tuple[Blocklist, ...], allow: tuple[str, ...] = ()) -> Decision:
    """Whether a sinkhole with these lists (and its own ``allow`` entries) blocks ``host``, and by which rule."""
    hits = [rule for blocklist in lists for rule in blocklist.matches(host)]
    blocks = [r for r in hits if r.action is Action.BLOCK]
    important = [r for r in blocks if r.important]
    if important:
        return Decision(host=host, blocked=True, rule=important[0])
    exceptions = [r for r in hits if r.action is Action.ALLOW]
    if exceptions or _allowed(host, allow):
        return Decision(host=host, blocked=False, rule=exceptions[0] if exceptions else None)
    return Decision(host=host, blocked=bool(blocks), rule=blocks[0] if blocks else None)


def _allowed(host: str, allow: tuple[str, ...]) -> bool:
    for entry in allow:
        base = entry.removeprefix("*.")
        if host == base or (entry.startswith("*.") and host.endswith("." + base)):
            return True
    return False


def parse_blocklist(text: str, source: str) -> Blocklist:
    """Parse a hosts, domains-only or adblock-style list; unparseable lines are counted in ``skipped``."""
    blocklist = Blocklist(source=source)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "!#[" or "##" in line or "#@#" in line or "#?#" in line:
            continue  # comments, the "[Adblock Plus 2.0]" header, cosmetic rules
        if _add_line(blocklist, line, number):
            blocklist.rules += 1
        else:
            blocklist.skipped += 1
    return blocklist


def _add_line(blocklist: Blocklist, line: str, number: int) -> bool:
    first, *rest = line.split(None, 1)
    if rest and (first in _SINK_IPS or _is_ip(first)):
        for name in rest[0].split("#", 1)[0].lower().split():
            if name not in _HOSTS_LOCAL:
                blocklist.hosts.setdefault(name.rstrip("."), (number, line))
        return True
    return _add_adblock(blocklist, line, number)


def _add_adblock(blocklist: Blocklist, line: str, number: int) -> bool:
    action = Action.ALLOW if line.startswith("@@") else Action.BLOCK
    body = line.removeprefix("@@")
    body, modifiers = _split_modifiers(body)
    if modifiers is None:
        return False
    rule = _rule(action, line, blocklist, number, modifiers)
    lowered = body.lower()
    if len(body) > 2 and body.startswith("/") and body.endswith("/"):
        try:
            blocklist.patterns.append((re.compile(body[1:-1], re.IGNORECASE), rule))
        except re.error:
            return False
        return True
    if _DOMAIN.fullmatch(lowered):
        _put(blocklist.exact, lowered.rstrip("."), rule)  # a domains-only line
        return True
    name = lowered.removeprefix("||").removesuffix("^").removesuffix("|")
    if lowered.startswith("||") and _DOMAIN.fullmatch(name):
        _put(blocklist.suffix, name.rstrip("."), rule)
        return True
    if not _PATTERN.fullmatch(lowered):
        return False  # paths, ports, URL parts: a browser rule
    blocklist.patterns.append((re.compile(_pattern_regex(lowered)), rule))
    return True


def _split_modifiers(body: str) -> tuple[str, dict[str, str] | None]:
    if "$" not in body or (body.startswith("/") and body.rstrip().endswith("/")):
        return body, {}
    body, _, tail = body.rpartition("$")
    modifiers: dict[str, str] = {}
    for item in tail.split(","):
        key, _, value = item.strip().partition("=")
        if key not in _DNS_MODIFIERS:
            return body, None  # $badfilter, $script, $third-party, ...: AdGuard Home skips the rule
        modifiers[key] = value
    return body, modifiers


def _rule(
    action: Action, line: str, blocklist: Blocklist, number: int, modifiers: dict[str, str] | None = None
) -> Rule:
    modifiers = modifiers or {}
    notes = [f"only for some clients (${key})" for key in ("client", "ctag") if key in modifiers]
    if "dnsrewrite" in modifiers:
        notes.append(f"rewritten to {modifiers['dnsrewrite'] or 'an empty answer'}")
    denyallow = tuple(d for d in modifiers.get("denyallow", "").lower().split("|") if d)
    return Rule(action=action, text=line, source=blocklist.source, line=number,
                important="important" in modifiers, note="; ".join(notes), denyallow=denyallow)  # fmt: skip


def _pattern_regex(pattern: str) -> str:
    """An adblock pattern (``||ad*.example.org^``, ``|tracker.``, ``ads.``) as a regex over a host name."""
    start = ""
    if pattern.startswith("||"):
        start, pattern = r"(?:^|\.)", pattern[2:]
    elif pattern.startswith("|"):
        start, pattern = "^", pattern[1:]
    end = ""
    if pattern.endswith("^") or pattern.endswith("|"):
        end, pattern = "$", pattern[:-1]
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return start + body.replace(r"\^", "$") + end


def _put(table: dict[str, list[Rule]], name: str, rule: Rule) -> None:
    table.setdefault(name, []).append(rule)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
