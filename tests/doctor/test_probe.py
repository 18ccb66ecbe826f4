"""The probe's pure verdicts, table-driven from ``cases/probe_steps.json`` and ``cases/probe_inputs.json``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chargewise.doctor.findings import Cause
from chargewise.doctor.probe import (
    BootAnswer,
    Certificate,
    DnsAnswer,
    ProbeInputError,
    Report,
    Status,
    Step,
    TcpAttempt,
    TlsHandshake,
    Upgrade,
    parse_server,
    parse_target,
    skipped,
    to_json,
)  # fmt: skip
from chargewise.doctor.probe_steps import explain_boot, explain_dns, explain_tcp, explain_upgrade, is_public_name
from chargewise.doctor.probe_tls import explain_tls

CASES = Path(__file__).parent / "cases"
STEPS = json.loads((CASES / "probe_steps.json").read_text())
INPUTS = json.loads((CASES / "probe_inputs.json").read_text())
NOW = datetime.fromisoformat(STEPS["now"])


def when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def certificate(raw: dict[str, Any] | None) -> Certificate | None:
    if raw is None:
        return None
    return Certificate(subject=raw["subject"], issuer=raw["issuer"], not_before=datetime.fromisoformat(raw["not_before"]),
                       not_after=datetime.fromisoformat(raw["not_after"]), dns_names=tuple(raw.get("dns_names", ())),
                       ip_addresses=tuple(raw.get("ip_addresses", ())))  # fmt: skip


def judge(case: dict[str, Any]) -> Step:
    target, raw, given = parse_target(case["target"]), case["observation"], case.get("password_given", False)
    if case["step"] == "dns":
        return explain_dns(DnsAnswer(**{**raw, "addresses": tuple(raw.get("addresses", ()))}))
    if case["step"] == "tcp":
        return explain_tcp(tuple(TcpAttempt(**a) for a in raw["attempts"]), target)
    if case["step"] == "tls":
        handshake = None if raw is None else TlsHandshake(**{**raw, "certificate": certificate(raw.get("certificate"))})
        return explain_tls(
            handshake, target, now=NOW, charger_time=when(case.get("charger_time")), password_given=given
        )
    if case["step"] == "websocket":
        return explain_upgrade(Upgrade(**raw), target, password_given=given)
    return explain_boot(BootAnswer(**{**raw, "current_time": when(raw.get("current_time"))}), target, now=NOW)


@pytest.mark.parametrize("case", STEPS["cases"], ids=[c["name"] for c in STEPS["cases"]])
def test_step_verdicts(case: dict[str, Any]) -> None:
    step = judge(case)
    expect = case["expect"]
    assert step.name == case["step"]
    assert (step.status.value, step.problem) == (expect["status"], expect["problem"]), step
    text = f"{step.summary} {step.explanation} {step.fix}"
    for word in expect["words"]:
        assert word in text, (word, text)
    if step.status in (Status.WARN, Status.FAIL):  # every problem comes with its why and its fix
        assert step.explanation and step.fix


def test_every_problem_code_is_covered_by_a_case() -> None:
    """The table exercises each problem the verdicts can give (read from the sources, not listed by hand)."""
    import re

    src = Path(__file__).resolve().parents[2] / "src" / "chargewise" / "doctor"
    codes = {
        m for f in ("probe_steps.py", "probe_tls.py") for m in re.findall(r'problem="(\w+)"', (src / f).read_text())
    }
    covered = {c["expect"]["problem"] for c in STEPS["cases"]}
    assert codes and codes <= covered, codes - covered


@pytest.mark.parametrize("raw", INPUTS["targets"], ids=[t["url"] for t in INPUTS["targets"]])
def test_targets(raw: dict[str, Any]) -> None:
    target = parse_target(raw["url"])
    assert {k: getattr(target, k) for k in raw if k != "url"} == {k: v for k, v in raw.items() if k != "url"}


@pytest.mark.parametrize("raw", INPUTS["bad_targets"], ids=[t["url"] for t in INPUTS["bad_targets"]])
def test_bad_targets_say_how_to_write_the_url(raw: dict[str, str]) -> None:
    with pytest.raises(ProbeInputError) as error:
        parse_target(raw["url"])
    assert raw["words"] in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("raw", INPUTS["servers"], ids=[s["text"] for s in INPUTS["servers"]])
def test_dns_servers(raw: dict[str, Any]) -> None:
    assert parse_server(raw["text"]) == (raw["host"], raw["port"])


@pytest.mark.parametrize("raw", INPUTS["bad_servers"], ids=[s["text"] for s in INPUTS["bad_servers"]])
def test_bad_dns_servers(raw: dict[str, str]) -> None:
    with pytest.raises(ProbeInputError) as error:
        parse_server(raw["text"])
    assert raw["words"] in str(error.value)


@pytest.mark.parametrize(("host", "public"), [("csms.example.com", True), ("csms.lan", False), ("csms", False),
                                              ("box.fritz.box", False), ("garage.local", False), ("a.home.arpa", False)])  # fmt: skip
def test_public_names(host: str, public: bool) -> None:
    assert is_public_name(host) is public


def test_report_cause_and_json() -> None:
    target = parse_target("wss://csms.example.com/ocpp/CP1")
    dns = explain_dns(DnsAnswer(host="csms.example.com", rcode="NOERROR", server="10.0.0.1:53", addresses=("0.0.0.0",)))
    report = Report(target=target, version="2.0.1", steps=(dns, skipped("tcp", dns)))
    assert not report.ok and report.cause is Cause.DNS and report.failed is dns
    out = to_json(report)
    assert out["cause"] == "dns" and out["problem"] == "dns_sinkhole" and out["ocpp"] == "2.0.1"
    steps = out["steps"]
    assert isinstance(steps, list) and steps[1] == {
        "step": "tcp", "status": "skipped", "summary": "not tried: the dns step failed", "elapsed_ms": None,
        "problem": None, "explanation": "", "fix": "", "details": {},
    }  # fmt: skip
    upgrade = explain_upgrade(Upgrade(offered="ocpp1.6", status=401), target, password_given=False)
    assert Report(target=target, version="1.6", steps=(upgrade,)).cause is None  # no vocabulary word for it
    assert Report(target=target, version="1.6", steps=()).ok
