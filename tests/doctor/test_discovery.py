"""mDNS verdicts (``chargewise.doctor.discovery``), table-driven from ``cases/discovery.json``."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from chargewise.doctor.discovery import Announcement, assess, parse_network
from chargewise.doctor.probe import ProbeInputError

TABLE = json.loads((Path(__file__).parent / "cases" / "discovery.json").read_text())


def announcement(raw: dict[str, Any]) -> Announcement:
    return Announcement(type=raw["type"], name=raw["name"], port=raw["port"], addresses=tuple(raw["addresses"]),
                        txt=tuple(raw["txt"].items()))  # fmt: skip


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["name"] for c in TABLE["cases"]])
def test_verdicts(case: dict[str, Any]) -> None:
    net = ipaddress.ip_network(case["charger_net"], strict=False) if case["charger_net"] else None
    verdicts = assess(tuple(announcement(a) for a in case["found"]), local=tuple(case["local"]), charger_net=net,
                      waited_s=3.0)  # fmt: skip
    assert [(v.status.value, v.problem) for v in verdicts] == [(e["status"], e["problem"]) for e in case["expect"]]
    for verdict, expect in zip(verdicts, case["expect"], strict=True):
        text = f"{verdict.summary} {verdict.explanation} {verdict.fix}"
        for word in expect["words"]:
            assert word in text, (word, text)


@pytest.mark.parametrize("raw", TABLE["networks"], ids=[n["text"] for n in TABLE["networks"]])
def test_networks(raw: dict[str, str]) -> None:
    assert str(parse_network(raw["text"])) == raw["network"]


@pytest.mark.parametrize("text", TABLE["bad_networks"])
def test_bad_networks(text: str) -> None:
    with pytest.raises(ProbeInputError, match=r"--charger-ip .* must be the charger's address or subnet"):
        parse_network(text)
