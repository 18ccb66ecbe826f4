"""The blocklist parser on the Pi-hole hosts and AdGuard fixtures, and on single rules (§4.1 semantics)."""

from __future__ import annotations

import pytest

from chargewise.doctor.audit.blocklist import Action, decide, parse_blocklist
from tests.doctor.audit.test_audit_cases import FIXTURES


def test_pihole_hosts_list() -> None:
    hosts = parse_blocklist((FIXTURES / "lists" / "pihole-gravity-hosts.txt").read_text(), "gravity")
    assert not {"localhost", "broadcasthost", "0.0.0.0", "ip6-localhost", "local"} & set(hosts.hosts)
    assert {"ads.adservice.example", "pixel.adservice.example", "beacon.tracker.example",
            "analytics.tracker.example", "doubleclick.example", "csms.blocked.example"} <= set(hosts.hosts)  # fmt: skip
    assert hosts.skipped == 0
    [rule] = hosts.matches("pixel.adservice.example")
    assert rule.line == 19 and rule.action is Action.BLOCK
    assert hosts.matches("sub.ads.adservice.example") == []  # hosts lines are exact (AdGuardHome#3998)


def test_adguard_list() -> None:
    rules = parse_blocklist((FIXTURES / "lists" / "adguard-filter.txt").read_text(), "adguard")
    # $third-party (browser only), $badfilter and a URL path are not DNS rules; ## is cosmetic (not counted)
    assert rules.skipped == 3
    assert [r.line for r in rules.matches("a.b.chargepoint.com")] == [9]
    assert {r.action for r in rules.matches("tesla.com")} == {Action.BLOCK, Action.ALLOW}
    assert rules.matches("wall-box.com") == [] and rules.matches("api.wall-box.com")[0].line == 12
    assert [r.line for r in rules.matches("telemetry7.emporiaenergy.com")] == [14, 13]  # suffix, then regex
    assert rules.matches("cdn.example.org") == []


@pytest.mark.parametrize(
    ("text", "host", "blocked"),
    [
        ("||example.org^", "example.org", True),
        ("||example.org^", "deep.sub.example.org", True),
        ("||example.org^", "notexample.org", False),
        ("|example.org^", "sub.example.org", False),
        ("|example.org^", "example.org", True),
        ("example.org", "example.org", True),
        ("example.org", "www.example.org", False),
        ("||ad*.example.org^", "ads1.example.org", True),
        ("||ad*.example.org^", "cdn.example.org", False),
        ("/^(.+\\.)?track(er)?\\./", "tracker.example.net", True),
        ("/^(.+\\.)?track(er)?\\./", "example.net", False),
        ("||example.org^$denyallow=api.example.org", "api.example.org", False),
        ("||example.org^$denyallow=api.example.org", "www.example.org", True),
        ("||example.org^$dnstype=AAAA", "example.org", True),
        ("||example.org^$script", "example.org", False),
        ("0.0.0.0 Example.ORG # comment", "example.org", True),
        ("0.0.0.0\tads.example.org # tab-separated", "ads.example.org", True),
        ("example.org^", "badexample.org", True),  # no || anchor: a substring, as in adblock syntax
        ("example.com##.banner", "example.com", False),
    ],
)
def test_one_rule(text: str, host: str, blocked: bool) -> None:
    assert decide(host, (parse_blocklist(text, "l"),)).blocked is blocked


def test_precedence_important_beats_exception_beats_block() -> None:
    lists = (parse_blocklist("||a.example^\n@@||a.example^", "x"),)
    assert not decide("a.example", lists).blocked
    lists = (parse_blocklist("||a.example^$important\n@@||a.example^", "x"),)
    decision = decide("www.a.example", lists)
    assert decision.blocked and decision.rule is not None and decision.rule.important


def test_sinkhole_allow_entries() -> None:
    lists = (parse_blocklist("||vendor.example^", "x"),)
    assert not decide("api.vendor.example", lists, ("*.vendor.example",)).blocked
    assert decide("api.vendor.example", lists, ("vendor.example",)).blocked  # exact allow: the apex only
    assert not decide("vendor.example", lists, ("vendor.example",)).blocked


def test_a_bad_regex_is_skipped_not_fatal() -> None:
    rules = parse_blocklist("/(unclosed/\n||ok.example^", "x")
    assert rules.skipped == 1 and rules.rules == 1
