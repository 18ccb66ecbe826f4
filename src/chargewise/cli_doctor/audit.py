"""``chargewise doctor audit SITE_FILE [--json]``: read the site file and the files it names, audit, print.

Exit codes: 0 nothing wrong, 1 findings, 2 bad input (one line naming the field and the fix).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from chargewise.cli_support import UsageError
from chargewise.doctor.audit.errors import SiteError
from chargewise.doctor.audit.findings import AuditFinding, Severity, is_problem
from chargewise.doctor.audit.network import SiteNetwork
from chargewise.doctor.audit.rules import audit
from chargewise.doctor.audit.site import build_network, parse_site

HELP = "audit a site's Wi-Fi, VLANs, DHCP and DNS blocklists for what keeps chargers offline (no network needed)"
STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "green"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site_file", metavar="SITE_FILE", type=Path, help="the site file (TOML; docs/doctor-audit.md)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")


async def run(args: argparse.Namespace) -> int:
    site = load(args.site_file)
    findings = audit(site)
    if args.json:
        print(json.dumps({"site": site.name, "sources": list(site.sources),
                          "findings": [f.to_json() for f in findings]}, indent=2))  # fmt: skip
    else:
        show(site, findings, Console(highlight=False, soft_wrap=True))
    return 1 if any(is_problem(f) for f in findings) else 0


def load(path: Path) -> SiteNetwork:
    """Read the site file and every native input it names (relative to its folder); errors are one line."""
    text = _read(path, "SITE_FILE", "check the path")
    try:
        site = parse_site(text, path.name)
        fix = "fix the path; it is relative to the site file"
        # blocklists are downloaded text of any quality: an odd byte must not stop the audit
        texts = {i.path: _read(path.parent / i.path, i.field, fix, lenient=i.kind == "blocklist") for i in site.inputs}
        return build_network(site, texts)
    except SiteError as exc:
        raise UsageError(f"{path.name}: {exc}" if not str(exc).startswith(path.name) else str(exc)) from None


def _read(path: Path, field: str, fix: str, *, lenient: bool = False) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace" if lenient else "strict")
    except UnicodeDecodeError:
        raise UsageError(f'{field}: "{path}" is not UTF-8 text (save it as text)') from None
    except OSError as exc:
        raise UsageError(f'{field}: cannot read "{path}": {exc.strerror} ({fix})') from None


def show(site: SiteNetwork, findings: list[AuditFinding], console: Console) -> None:
    """The findings for a person: a headline each, then the why, the fix, the evidence and the source."""
    console.print(f"[bold]Site audit: {escape(site.name)}[/] ({len(site.chargers)} chargers; read "
                  f"{escape(', '.join(site.sources))})\n")  # fmt: skip
    for finding in findings:
        who = f" [{finding.charger}]" if finding.charger else ""
        style = STYLE[finding.severity]
        console.print(f"[{style}]{finding.severity.value.upper()} {finding.code.value}[/]{escape(who)}: "
                      f"{escape(finding.summary)}")  # fmt: skip
        console.print(f"  why: {escape(finding.explanation)}")
        console.print(f"  fix: {escape(finding.fix)}")
        for evidence in finding.evidence:
            console.print(f"  at:  {escape(str(evidence))}")
        console.print(f"  see: {escape(finding.source)}\n")
    problems = [f for f in findings if is_problem(f)]
    if problems:
        errors = sum(f.severity is Severity.ERROR for f in problems)
        console.print(f"[bold]{len(problems)} findings[/] ({errors} errors). Fix the errors first.")
