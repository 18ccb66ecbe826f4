"""Every audit case in ``cases/audit.toml``: real-format fixtures, each failure mode present and absent."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from chargewise.doctor.audit.findings import AuditFinding
from chargewise.doctor.audit.rules import audit
from chargewise.doctor.audit.site import build_network, parse_site

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
CASES: list[dict[str, Any]] = tomllib.loads((HERE / "cases" / "audit.toml").read_text())["case"]


def run_site(text: str) -> list[AuditFinding]:
    site = parse_site(text, "site.toml")
    texts = {i.path: (FIXTURES / i.path).read_text() for i in site.inputs}
    return audit(build_network(site, texts))


def matches(finding: AuditFinding, want: dict[str, str]) -> bool:
    evidence = " | ".join(str(e) for e in finding.evidence)
    return (
        finding.code.value == want["code"]
        and want.get("charger", finding.charger) == finding.charger
        and want.get("severity", finding.severity.value) == finding.severity.value
        and want.get("evidence", "") in evidence
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    findings = run_site(case["site"])
    shown = [(f.code.value, f.charger, f.severity.value, [str(e) for e in f.evidence]) for f in findings]
    for want in case.get("present", []):
        assert any(matches(f, want) for f in findings), (want, shown)
    codes = {f.code.value for f in findings}
    for code in case.get("absent", []):
        assert code not in codes, (code, shown)
    if case.get("only"):
        assert codes == {w["code"] for w in case["present"]}, shown


def test_every_code_has_a_present_and_an_absent_case() -> None:
    present = {w["code"] for c in CASES for w in c.get("present", [])}
    absent = {code for c in CASES for code in c.get("absent", [])} | {
        code for c in CASES if c.get("only") for code in ALL_CODES if code not in {w["code"] for w in c["present"]}
    }
    assert present >= ALL_CODES
    assert absent >= ALL_CODES - {"ok"}


ALL_CODES = {
    "band_mismatch", "wpa3_only", "wpa3_transition", "tkip", "mesh_no_garage_node", "mdns_not_reflected",
    "domain_blocked", "no_dhcp_reservation", "mac_filter_omits_charger", "ok",
}  # fmt: skip
