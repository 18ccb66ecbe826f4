"""What the audit reports: findings with stable codes (also the JSON's ``code`` values; docs/doctor-audit.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from chargewise.doctor.audit.network import Origin


class Code(enum.StrEnum):
    BAND_MISMATCH = "band_mismatch"  # the charger's SSID is not on any band its radio has
    WPA3_ONLY = "wpa3_only"  # the SSID is WPA3-SAE only; the charger lacks (reliable) WPA3
    WPA3_TRANSITION = "wpa3_transition"  # WPA2/WPA3 transition mode or PMF required, charger without WPA3
    TKIP = "tkip"  # TKIP or WPA1 enabled on the charger's SSID
    MESH_NO_GARAGE_NODE = "mesh_no_garage_node"  # the SSID comes from several nodes, none near the garage
    MDNS_NOT_REFLECTED = "mdns_not_reflected"  # the charger's VLAN is not bridged for mDNS to the app/backend
    DOMAIN_BLOCKED = "domain_blocked"  # a blocklist blocks the CSMS host or the vendor's cloud
    NO_DHCP_RESERVATION = "no_dhcp_reservation"  # the charger's MAC has no fixed address
    MAC_FILTER_OMITS_CHARGER = "mac_filter_omits_charger"  # the SSID's MAC filter keeps the charger out
    OK = "ok"  # nothing wrong found (the only finding then)


class Severity(enum.StrEnum):
    ERROR = "error"  # the charger will not connect, or will drop, until this is fixed
    WARNING = "warning"  # a known cause of drops or of a dead app; fix it if the charger misbehaves
    INFO = "info"


@dataclass(frozen=True, kw_only=True, slots=True)
class Evidence:
    origin: Origin  # the file and line or key to look at
    value: str  # what it says there ("sae-mixed", "bands 5", "||tesla.com^")

    def __str__(self) -> str:
        return f"{self.origin}: {self.value}"


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditFinding:
    code: Code
    severity: Severity
    charger: str | None  # the charger concerned; None for site-wide findings
    summary: str  # one line
    explanation: str  # plain words: why this makes a charger go offline
    fix: str
    source: str  # the connectivity.md section(s) or seed passage behind it
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "charger": self.charger,
            "summary": self.summary,
            "explanation": self.explanation,
            "fix": self.fix,
            "source": self.source,
            "evidence": [
                {"file": e.origin.source, "line": e.origin.line, "key": e.origin.key, "value": e.value}
                for e in self.evidence
            ],
        }


def is_problem(finding: AuditFinding) -> bool:
    return finding.code is not Code.OK
