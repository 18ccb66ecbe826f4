"""Bad input is one line naming the field and the fix: selectors, amounts, windows, artifacts; links expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargewise.firmware.amounts import parse_amount
from chargewise.firmware.artifacts import new_artifact, of_version
from chargewise.firmware.errors import FirmwareError
from chargewise.firmware.links import Grant, sign, verify
from chargewise.firmware.selectors import Facts, parse_selector, select
from chargewise.firmware.window import is_open, opens_at, parse_window

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SHA = "ab" * 32


def test_selector_terms_wildcards_and_nothing_matched() -> None:
    fleet = [Facts(charger_id="work-1", vendor="Acme", model="AC22", firmware="1.0", sites=("workplace",)),
             Facts(charger_id="home-1", vendor="Other", model="X", firmware="1.0")]  # fmt: skip
    assert [f.charger_id for f in select(parse_selector("charger=work-*"), fleet)] == ["work-1"]
    assert len(select(parse_selector(""), fleet)) == 2
    assert [f.charger_id for f in select(parse_selector("vendor=Acme,vendor=Other,site=workplace"), fleet)] == [
        "work-1"]  # fmt: skip
    with pytest.raises(FirmwareError, match=r"^--select: vendor=Nobody matches no charger .*\(check"):
        select(parse_selector("vendor=Nobody"), fleet)
    with pytest.raises(FirmwareError, match=r"unknown key 'colour'.*use vendor"):
        parse_selector("colour=red")
    with pytest.raises(FirmwareError, match="is not KEY=VALUE"):
        parse_selector("vendor")


def test_amounts() -> None:
    assert parse_amount("10%", "--batch").of(25) == 3 and parse_amount("4", "--batch").of(25) == 4
    for bad in ("ten", "120%", "-1"):
        with pytest.raises(FirmwareError, match=r"^--batch: "):
            parse_amount(bad, "--batch")


def test_window_parse_open_across_midnight_and_in_a_zone() -> None:
    w = parse_window("22:00-04:00", "Europe/Berlin")  # 23:00 UTC is 00:00 in Berlin in December
    assert is_open(w, T0.replace(hour=23)) and not is_open(w, T0)
    assert opens_at(w, T0) == T0.replace(hour=21)  # 22:00 Berlin
    for bad, field in (("1am-5am", "--window"), ("05:00-05:00", "--window"), ("25:00-01:00", "--window")):
        with pytest.raises(FirmwareError, match=rf"^{field}: .*\(.+\)$"):
            parse_window(bad)
    with pytest.raises(FirmwareError, match=r"^--timezone: unknown time zone"):
        parse_window("01:00-05:00", "Mars/Olympus")


def test_artifact_checks() -> None:
    a = new_artifact(sha256=SHA, size=10, version="2.0", filename="../fw 2.0.bin", added_at=T0)
    assert a.id == SHA[:12] and a.filename == "fw_2.0.bin"
    with pytest.raises(FirmwareError, match=r"^--sha256: the file's SHA-256 is abab.*, not 0000.*\(check"):
        new_artifact(sha256=SHA, size=10, version="2.0", filename="f", added_at=T0, expected_sha256="0" * 64)
    with pytest.raises(FirmwareError, match=r"^--version: no artifact has version '3.0'.*known: 2.0\)$"):
        of_version([a], "3.0")
    with pytest.raises(FirmwareError, match="go together"):
        new_artifact(sha256=SHA, size=10, version="2.0", filename="f", added_at=T0, signature="AAAA")


def test_links_expire_and_cannot_be_forged() -> None:
    key = b"k" * 32
    token = sign(key, Grant(artifact_id="a1", charger_id="CP 1/x", expires_at=T0 + timedelta(hours=1)))
    grant, _ = verify(key, token, T0)
    assert grant is not None and grant.charger_id == "CP 1/x" and grant.artifact_id == "a1"
    assert verify(key, token, T0 + timedelta(hours=2))[1].startswith("link expired")
    assert verify(b"other" * 8, token, T0)[0] is None
    assert verify(key, token[:-2] + "xx", T0)[0] is None
