"""``chargewise doctor audit`` in-process: exit 0 clean, 1 findings, 2 bad input (one line on stderr)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chargewise.cli import main
from tests.doctor.audit.test_audit_cases import FIXTURES

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network.toml"


def site_file(tmp_path: Path, body: str) -> Path:
    """A site file in tmp_path whose native-input paths reach the fixtures relatively (as users write them)."""
    rel = os.path.relpath(FIXTURES, tmp_path)
    path = tmp_path / "site.toml"
    path.write_text(body.replace("FIX/", f"{rel}/"))
    return path


BROKEN = """
csms_host = "csms.blocked.example"
openwrt_wireless = "FIX/openwrt/wireless"
openwrt_dhcp = "FIX/openwrt/dhcp"
[dns]
blocklists = ["FIX/lists/pihole-gravity-hosts.txt"]
[[chargers]]
id = "twc"
model = "tesla-wall-connector-gen3"
mac = "4c:fc:aa:01:02:03"
ssid = "Home-5G"
"""


def one_line_error(capsys: pytest.CaptureFixture[str], code: int, *fragments: str) -> None:
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chargewise: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_the_shipped_example_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "audit", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "INFO ok" in out and "example house" in out


def test_findings_for_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "audit", str(site_file(tmp_path, BROKEN))]) == 1
    out = capsys.readouterr().out
    assert "ERROR band_mismatch [twc]" in out and "ERROR domain_blocked" in out
    assert "fix: " in out and "pihole-gravity-hosts.txt:22" in out and "2 findings (2 errors)" in out


def test_findings_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "audit", str(site_file(tmp_path, BROKEN)), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(f["code"], f["charger"], f["severity"]) for f in report["findings"]] == [
        ("domain_blocked", None, "error"), ("band_mismatch", "twc", "error"),
    ]  # fmt: skip
    evidence = report["findings"][0]["evidence"][0]
    assert evidence["file"].endswith("lists/pihole-gravity-hosts.txt") and evidence["line"] == 22
    assert report["findings"][1]["source"].startswith("connectivity.md §0")


def test_ok_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "audit", str(EXAMPLE), "--json"]) == 0
    assert [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["ok"]


def test_typo_in_the_site_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = site_file(tmp_path, '[[aps]]\nname = "a"\nband = [2.4]\n')
    code = main(["doctor", "audit", str(path)])
    one_line_error(capsys, code, 'site.toml: aps[0].band: unknown key (did you mean "bands"?)')


def test_unknown_band_and_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "audit", str(site_file(tmp_path, '[[aps]]\nname = "a"\nbands = ["5ghz"]\n'))])
    one_line_error(capsys, code, 'aps[0].bands: unknown band "5ghz" (use 2.4, 5 or 6)')
    body = '[[chargers]]\nid = "a"\nmodel = "juicebox"\nmac = "11:22:33:44:55:66"\nssid = "x"\n'
    code = main(["doctor", "audit", str(site_file(tmp_path, body))])
    one_line_error(capsys, code, 'chargers[0].model: unknown model "juicebox"', "enel-x-juicebox")


def test_missing_site_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "audit", str(tmp_path / "nope.toml")])
    one_line_error(capsys, code, "SITE_FILE: cannot read", "No such file", "check the path")


def test_missing_native_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "audit", str(site_file(tmp_path, BROKEN.replace("openwrt/dhcp", "openwrt/dhcpp")))])
    one_line_error(capsys, code, "openwrt_dhcp: cannot read", "dhcpp", "relative to the site file")
    body = BROKEN.replace("pihole-gravity-hosts.txt", "gone.txt")
    one_line_error(capsys, main(["doctor", "audit", str(site_file(tmp_path, body))]), "dns.blocklists: cannot read")


def test_broken_native_input_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = BROKEN.replace("openwrt/dhcp", "bad/dhcp-quote")
    code = main(["doctor", "audit", str(site_file(tmp_path, body))])
    one_line_error(capsys, code, "bad/dhcp-quote:3: unbalanced quote (close the quote on that line)")
