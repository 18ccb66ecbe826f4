"""The simulated charger's credentials (rules 1-4 of ``simulator/credentials.py``), as pure state."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from chargewise.security.authority import Authority, chain_pem, hash_data, make_root, new_key, sign
from chargewise.simulator.credentials import ATTEMPTS, Credentials, NetworkProfile

NOW = datetime.now(UTC)


def ca() -> Authority:
    key = new_key()
    return Authority(certificate=make_root(key, NOW), key=key)


def certified(creds: Credentials, authority: Authority) -> str:
    csr = x509.load_pem_x509_csr(creds.csr().encode())
    return chain_pem(authority, sign(authority, csr, NOW))


def test_a_new_priority_applies_after_a_reboot_and_falls_back_after_failures() -> None:
    creds = Credentials(charger_id="CP", profile=1)
    assert creds.set_profile_slot(1, NetworkProfile(url="wss://new/ocpp", security_profile=2)) == "Accepted"
    assert creds.set_priority("1,0") == "RebootRequired"
    assert creds.plan().slot == 0  # rule 1: not before the reboot
    creds.rebooted()
    assert (creds.plan().slot, creds.plan().url, creds.security_profile) == (1, "wss://new/ocpp", 2)
    notes = [creds.connect_failed() for _ in range(ATTEMPTS)]
    assert notes[:-1] == [None] * (ATTEMPTS - 1) and "falling back to network profile 0" in (notes[-1] or "")
    assert creds.plan().slot == 0
    assert [creds.connect_failed() for _ in range(ATTEMPTS + 1)] == [None] * (ATTEMPTS + 1)  # nowhere further
    creds.rebooted()
    assert creds.plan().slot == 1  # a reboot starts from the head again


def test_an_opened_connection_resets_the_count() -> None:
    creds = Credentials(charger_id="CP", profile=1)
    creds.set_profile_slot(1, NetworkProfile(url=None, security_profile=2))
    creds.set_priority("1,0")
    creds.rebooted()
    for _ in range(ATTEMPTS - 1):
        creds.connect_failed()
    creds.connected()
    assert creds.connect_failed() is None and creds.plan().slot == 1


def test_profiles_that_are_refused() -> None:
    creds = Credentials(charger_id="CP", profile=2)
    assert creds.set_profile_slot(1, NetworkProfile(url=None, security_profile=1)) == "Rejected"  # lower
    assert creds.set_profile_slot(1, NetworkProfile(url=None, security_profile=3)) == "Rejected"  # no certificate
    assert creds.set_profile_slot(0, NetworkProfile(url=None, security_profile=2)) == "Rejected"  # in use
    assert creds.set_priority("0,7") == "Rejected" and creds.set_priority("x") == "Rejected"
    assert creds.raise_profile(3) == "Rejected" and creds.raise_profile(2) == "Rejected"
    assert creds.set_password("short") == "Rejected" and creds.password is None


def test_the_16_raise_keeps_the_old_profile_behind_the_new() -> None:
    creds = Credentials(charger_id="CP", profile=1)
    assert creds.raise_profile(2) == "Accepted"
    creds.rebooted()
    assert creds.security_profile == 2 and creds.booted_priority == [1, 0]


def test_a_certificate_for_its_own_csr_is_taken_and_presented_for_profile_3_only() -> None:
    authority = ca()
    creds = Credentials(charger_id="CP", profile=1)
    chain = certified(creds, authority)
    assert creds.certificate_signed(chain, time.time()) == "Accepted"
    assert creds.plan().certificate is None  # profile 1: no client certificate
    assert creds.set_profile_slot(1, NetworkProfile(url=None, security_profile=3)) == "Accepted"
    creds.set_priority("1,0")
    creds.rebooted()
    presented = creds.plan().certificate
    assert presented is not None and presented[0] == chain and "PRIVATE KEY" in presented[1]


def test_certificates_that_are_refused() -> None:
    authority = ca()
    creds = Credentials(charger_id="CP", profile=1)
    assert creds.certificate_signed("garbage", time.time()) == "Rejected"
    other = Credentials(charger_id="OTHER", profile=1)
    assert creds.certificate_signed(certified(other, authority), time.time()) == "Rejected"  # not its key
    creds.csr_common_name = "OTHER"  # a CSR for another id, signed as asked: not its own name
    assert creds.certificate_signed(certified(creds, authority), time.time()) == "Rejected"
    creds.csr_common_name = None
    chain = certified(creds, authority)
    assert creds.certificate_signed(chain, time.time() + 400 * 86400) == "Rejected"  # expired by then
    assert creds.chain_pem is None


def test_roots_are_installed_listed_and_deleted() -> None:
    authority = ca()
    creds = Credentials(charger_id="CP", profile=1)
    assert creds.install("CSMSRootCertificate", authority.pem) == "Accepted"
    assert creds.install("CSMSRootCertificate", "junk") == "Rejected"
    [(kind, data)] = creds.installed(None)
    assert kind == "CSMSRootCertificate" and data == hash_data(authority.certificate)
    assert creds.installed(["ManufacturerRootCertificate"]) == []
    wanted = {**data.payload(), "serialNumber": data.serial_number.upper()}
    assert creds.delete(wanted) == "Accepted" and creds.delete(wanted) == "NotFound"
    assert authority.certificate.public_bytes(serialization.Encoding.PEM).decode() == authority.pem
