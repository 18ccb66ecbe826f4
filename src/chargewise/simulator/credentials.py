"""What a simulated charger connects with, and the certificates it holds. Pure: the driver asks
:meth:`Credentials.plan` before each connection and reports how it went.

Rules:

1. Network profiles sit in numbered slots (slot 0: how the charger was started: its URL, its profile, the
   password it was given). The slot tried first is the head of the priority list as it was at the last
   boot: a new priority (2.0.1 NetworkConfigurationPriority, 1.6 a new SecurityProfile) applies from the
   next reboot, as on real chargers.
2. Fallback: after :data:`ATTEMPTS` failed connections in a row with one slot, the next slot of the priority
   list is tried (2.0.1 B09/A05; for 1.6 the whitepaper leaves it open, and this charger does the same). A
   connection that opens resets the count.
3. A new Basic-auth password applies from the next connection; the open link stays as it is.
4. A CSR is made with a new EC P-256 key for CN = the charger id (``csr_common_name`` overrides it, to model a
   charger asking for another id); CertificateSigned is accepted only for that key and CN, still valid, and
   the certificate is used for every connection after that. Profile 3 is refused without a certificate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargewise.security.authority import HashData, hash_data

ATTEMPTS = 3  # failed connections with one network profile before the next one is tried (rule 2)


@dataclass(frozen=True, kw_only=True, slots=True)
class NetworkProfile:
    url: str | None  # the CSMS URL without the charger id; None: the one the charger was started with
    security_profile: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """How to open the next connection."""

    slot: int
    url: str | None  # None: the start URL
    security_profile: int
    password: str | None  # None: the one the charger was started with
    certificate: tuple[str, str] | None  # (chain PEM, key PEM) to present: profile 3 only


@dataclass(kw_only=True, slots=True)
class Installed:
    kind: str  # OCPP certificate type as the charger's version names it
    certificate: x509.Certificate


@dataclass(kw_only=True, slots=True)
class Credentials:
    """The charger's network profiles, password and certificates (rules in the module docstring)."""

    charger_id: str
    profile: int  # the security profile of slot 0
    password: str | None = None  # set by the CSMS (rule 3); None: the start password
    slots: dict[int, NetworkProfile] = field(default_factory=dict)
    priority: list[int] = field(default_factory=lambda: [0])
    booted_priority: list[int] = field(default_factory=lambda: [0])
    active: int = 0  # index into booted_priority
    failures: int = 0
    key: ec.EllipticCurvePrivateKey | None = None  # of the installed client certificate
    chain_pem: str | None = None
    pending_key: ec.EllipticCurvePrivateKey | None = None  # made for the last CSR
    csr_common_name: str | None = None  # rule 4: None, the charger id
    roots: list[Installed] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.slots.setdefault(0, NetworkProfile(url=None, security_profile=self.profile))

    # ------------------------------------------------------------------ connecting (rules 1-3)
    def plan(self) -> Plan:
        slot = self.booted_priority[self.active]
        network = self.slots[slot]
        certificate = None
        if network.security_profile == 3 and self.chain_pem is not None and self.key is not None:
            key = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode()  # fmt: skip
            certificate = (self.chain_pem, key)
        return Plan(slot=slot, url=network.url, security_profile=network.security_profile, password=self.password,
                    certificate=certificate)  # fmt: skip

    @property
    def security_profile(self) -> int:
        return self.slots[self.booted_priority[self.active]].security_profile

    def connected(self) -> None:
        self.failures = 0

    def connect_failed(self) -> str | None:
        """Count a failure; the note to log when it moves on to the next slot (rule 2)."""
        self.failures += 1
        if self.failures < ATTEMPTS or self.active + 1 >= len(self.booted_priority):
            return None
        self.failures = 0
        self.active += 1
        slot = self.booted_priority[self.active]
        return f"{ATTEMPTS} failed connections: falling back to network profile {slot} (security profile " \
               f"{self.slots[slot].security_profile})"  # fmt: skip

    def rebooted(self) -> None:
        self.booted_priority = [s for s in self.priority if s in self.slots] or [0]
        self.active = self.failures = 0

    # ------------------------------------------------------------------ changes from the CSMS
    def set_profile_slot(self, slot: int, network: NetworkProfile) -> str:
        """2.0.1 SetNetworkProfile: Accepted or Rejected (a lower profile, or 3 without a certificate)."""
        if network.security_profile < self.security_profile or slot < 0:
            return "Rejected"
        if network.security_profile == 3 and self.chain_pem is None:
            return "Rejected"
        if slot in self.booted_priority[: self.active + 1]:
            return "Rejected"  # the profile in use is not overwritten
        self.slots[slot] = network
        return "Accepted"

    def set_priority(self, text: str) -> str:
        try:
            order = [int(p) for p in text.replace(" ", "").split(",") if p]
        except ValueError:
            return "Rejected"
        if not order or any(s not in self.slots for s in order):
            return "Rejected"
        self.priority = order
        return "RebootRequired"

    def raise_profile(self, profile: int) -> str:
        """1.6 ChangeConfiguration SecurityProfile: the new profile in a slot of its own, tried first after the
        next reboot, the current one kept behind it (rule 2)."""
        if profile <= self.security_profile or profile > 3 or (profile == 3 and self.chain_pem is None):
            return "Rejected"
        slot = max(self.slots) + 1
        current = self.booted_priority[self.active]
        self.slots[slot] = NetworkProfile(url=self.slots[current].url, security_profile=profile)
        self.priority = [slot, current]
        return "Accepted"

    def set_password(self, password: str) -> str:
        if not 16 <= len(password) <= 40:
            return "Rejected"
        self.password = password
        return "Accepted"

    # ------------------------------------------------------------------ certificates (rule 4)
    def csr(self) -> str:
        self.pending_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.csr_common_name or self.charger_id),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargewise simulator")])  # fmt: skip
        request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(self.pending_key, hashes.SHA256())
        return request.public_bytes(serialization.Encoding.PEM).decode()

    def certificate_signed(self, chain_pem: str, now: float) -> str:
        """Accepted (the certificate is used from the next connection) or Rejected."""
        try:
            chain = x509.load_pem_x509_certificates(chain_pem.encode())
        except ValueError:
            return "Rejected"
        leaf, key = chain[0], self.pending_key
        if key is None or leaf.public_key().public_bytes(*_SPKI) != key.public_key().public_bytes(*_SPKI):
            return "Rejected"
        names = [a.value for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        moment = datetime.fromtimestamp(now, UTC)
        if names != [self.charger_id] or not leaf.not_valid_before_utc <= moment <= leaf.not_valid_after_utc:
            return "Rejected"
        self.key, self.chain_pem, self.pending_key = key, chain_pem, None
        return "Accepted"

    def install(self, kind: str, pem: str) -> str:
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
        except ValueError:
            return "Rejected"
        self.roots = [r for r in self.roots if r.certificate != certificate]
        self.roots.append(Installed(kind=kind, certificate=certificate))
        return "Accepted"

    def installed(self, kinds: list[str] | None) -> list[tuple[str, HashData]]:
        return [(r.kind, hash_data(r.certificate)) for r in self.roots if not kinds or r.kind in kinds]

    def delete(self, wanted: dict[str, str]) -> str:
        keys = ("issuerNameHash", "issuerKeyHash", "serialNumber")
        for r in self.roots:
            held = hash_data(r.certificate).payload()
            if all(str(wanted.get(k, "")).lower() == held[k] for k in keys):
                self.roots.remove(r)
                return "Accepted"
        return "NotFound"


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
