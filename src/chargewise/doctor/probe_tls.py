"""The probe's TLS verdict (connectivity.md §3 F): chain, expiry, host name, TLS version, and the clocks.

A certificate is valid between its notBefore and notAfter *by the clock of whoever checks it*: this machine's
clock comes in as ``now``, a charger's (read off its display or web page) as ``charger_time``. A charger
whose clock is wrong (no RTC battery, no NTP, §2.3 SettingSystemTime) rejects a good certificate exactly as it
rejects an expired one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from chargewise.doctor.probe import Certificate, Status, Step, Target, TlsHandshake, describe_span

EXPIRY_WARNING = timedelta(days=14)  # closer than this to notAfter: renew now, not after chargers drop off
OLD_TLS = ("SSLv3", "TLSv1", "TLSv1.1")  # the OCPP security profiles require TLS 1.2 or later
# OpenSSL X509_V_ERR_* codes (x509_vfy.h) grouped by what a person has to do about them
NOT_YET_VALID, EXPIRED = 9, 10
HOSTNAME_CODES = {62, 64}  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
UNTRUSTED_CODES = {2, 18, 19, 20, 21}  # no issuer, self-signed leaf / in chain, issuer not local, leaf unverifiable


def explain_tls(
    handshake: TlsHandshake | None,
    target: Target,
    *,
    now: datetime,
    charger_time: datetime | None = None,
    password_given: bool = False,
) -> Step:
    """Judge the TLS step; ``handshake`` is None for a ``ws://`` URL (no TLS to judge)."""
    if handshake is None:
        if password_given:
            return Step(
                name="tls",
                status=Status.WARN,
                problem="tls_none",
                summary="ws:// sends the password in clear",
                explanation="Security profile 1 (Basic auth without TLS) lets anyone on the path read the "
                "charger's password.",
                fix="Serve wss:// (security profile 2) if the charger supports it.",
            )
        return Step(name="tls", status=Status.SKIPPED, summary="ws:// (no TLS)")
    cert = handshake.certificate
    details = _details(handshake, cert, now=now, charger_time=charger_time)
    step = partial(Step, name="tls", elapsed_s=handshake.elapsed_s, details=details)
    if handshake.error:
        return step(
            status=Status.FAIL,
            problem="tls_handshake",
            summary=f"TLS handshake failed: {handshake.error}",
            explanation="The port did not complete a TLS handshake: it may serve plain ws:// (or HTTP), or "
            "a middlebox cut the connection.",  # connectivity.md §3 F #31, #34
            fix="Use ws:// if the server has no TLS on this port, or the port that serves wss://.",
        )
    if not handshake.verified:
        return _judge_failure(handshake, cert, target, step, now=now)
    assert cert is not None  # a verified handshake always has the server's certificate
    if charger_time is not None and not cert.not_before <= charger_time <= cert.not_after:
        return step(
            status=Status.FAIL,
            problem="charger_clock",
            summary=f"the charger's clock ({charger_time:%Y-%m-%d %H:%M}) is outside the certificate's "
            f"validity ({cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d})",
            explanation="The certificate is valid by this machine's clock, but the charger checks it by "
            "its own: it will refuse the server as if the certificate had expired.",
            fix="Set the charger's date and time (or let it reach NTP, UDP port 123); some chargers lose "
            "the time at every power cut.",
        )
    if handshake.version in OLD_TLS:
        return step(
            status=Status.WARN,
            problem="tls_old_version",
            summary=f"{handshake.version}: too old for OCPP",
            explanation="The OCPP security profiles need TLS 1.2 or later; current chargers refuse older "
            "versions (SecurityEvent InvalidTLSVersion).",  # connectivity.md §2.3
            fix="Enable TLS 1.2/1.3 on the server or the proxy in front of it.",
        )
    if cert.not_after - now < EXPIRY_WARNING:
        return step(
            status=Status.WARN,
            problem="tls_expires_soon",
            summary=f"{handshake.version}, chain valid, but the certificate ends {cert.not_after:%Y-%m-%d}",
            explanation=f"The certificate expires in {describe_span(cert.not_after - now)}; then every "
            "charger refuses the server at once.",
            fix="Renew it now and restart the server with the new chain.",
        )
    return step(
        status=Status.OK,
        summary=f"{handshake.version}, chain valid against {handshake.trust}, "
        f"certificate for {', '.join(_names(cert))} until {cert.not_after:%Y-%m-%d}",
    )


def _judge_failure(
    handshake: TlsHandshake, cert: Certificate | None, target: Target, step: partial[Step], *, now: datetime
) -> Step:
    code, why = handshake.verify_code, handshake.verify_message or "verification failed"
    clock = f"this machine's clock reads {now:%Y-%m-%d %H:%M} UTC"
    same = (
        "A charger whose clock is wrong fails the same way with a good certificate: give its time with "
        "--charger-time to check it."
    )
    if code == EXPIRED or (cert is not None and cert.not_after < now):
        ended = f" on {cert.not_after:%Y-%m-%d %H:%M} UTC ({describe_span(now - cert.not_after)} ago)" if cert else ""
        return step(
            status=Status.FAIL,
            problem="tls_expired",
            summary=f"the server's certificate expired{ended}",
            explanation=f"The certificate's validity ended{ended}; {clock}. Every charger refuses it "
            f"(SecurityEvent InvalidCsmsCertificate). {same}",
            fix="Renew the certificate (e.g. certbot renew, or a new one from your CA) and restart the "
            "server with it (--tls-cert); if this machine's clock is wrong, fix it and probe again.",
        )
    if code == NOT_YET_VALID or (cert is not None and cert.not_before > now):
        start = f" before {cert.not_before:%Y-%m-%d %H:%M} UTC" if cert else ""
        return step(
            status=Status.FAIL,
            problem="tls_not_yet_valid",
            summary=f"the certificate is not valid{start}",
            explanation=f"The certificate is not valid yet; {clock}. Either the certificate was issued with "
            f"a start in the future, or the checking clock is behind. {same}",
            fix="Check this machine's and the charger's clocks (NTP); reissue the certificate if its start "
            "date is wrong.",
        )
    if code in HOSTNAME_CODES:
        names = ", ".join(_names(cert)) if cert else "other names"
        return step(
            status=Status.FAIL,
            problem="tls_hostname",
            summary=f"the certificate is for {names}, not {target.host}",
            explanation=f"The URL names {target.host}, the certificate only {names}. A charger checks the "
            "name it dialled (an IP address needs an IP entry in the certificate's subjectAltName).",
            fix=f"Put a name the certificate holds into the charger's URL, or reissue the certificate with "
            f"{target.host} in its subjectAltName.",
        )
    if code in UNTRUSTED_CODES:
        kind = "self-signed" if cert is not None and cert.self_signed else "not issued by a CA we trust"
        return step(
            status=Status.FAIL,
            problem="tls_untrusted",
            summary=f"the certificate chain is {kind} ({why})",
            explanation=f"The chain does not lead to a root in {handshake.trust}. Usual causes: the server "
            "sends its certificate without the intermediate (serve the full chain, fullchain.pem), a "
            "self-signed or private CA the charger does not have, or a charger with a hardcoded root that "
            "the CA has since rotated.",  # connectivity.md §3 F #29, #30, #32, #33
            fix="Serve the full chain (--tls-cert fullchain.pem); for a private CA install its root on the "
            "charger (2.0.1: InstallCertificate CSMSRootCertificate) and probe with --ca ROOT.pem.",
        )
    return step(
        status=Status.FAIL,
        problem="tls_verify",
        summary=f"certificate check failed: {why}",
        explanation=f"OpenSSL refused the server's certificate ({why}, code {code}).",
        fix="Inspect the chain (openssl s_client -showcerts) and reissue it.",
    )


def _names(cert: Certificate) -> tuple[str, ...]:
    return cert.dns_names + cert.ip_addresses or (cert.subject,)


def _details(
    handshake: TlsHandshake, cert: Certificate | None, *, now: datetime, charger_time: datetime | None
) -> tuple[tuple[str, str], ...]:
    rows = [
        ("version", handshake.version or ""),
        ("cipher", handshake.cipher or ""),
        ("trust", handshake.trust),
        ("verify", handshake.verify_message or ("ok" if handshake.verified else "")),
    ]
    if cert is not None:
        rows += [
            ("subject", cert.subject),
            ("issuer", cert.issuer),
            ("names", ", ".join(_names(cert))),
            ("valid", f"{cert.not_before.isoformat()} to {cert.not_after.isoformat()}"),
            ("local clock", now.isoformat()),
        ]
    if charger_time is not None:
        rows.append(
            (
                "charger clock",
                f"{charger_time.isoformat()} ({describe_span(charger_time - now)} "
                f"{'ahead of' if charger_time > now else 'behind'} this machine)",
            )
        )
    return tuple(rows)
