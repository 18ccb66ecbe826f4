"""Who may open an OCPP link: the charger's security profile, its password, and the failed-password throttle.

The transport asks :meth:`Gatekeeper.check` once per upgrade request, before answering it, with what it knows
then (:class:`Knock`); a :class:`Denial` becomes the HTTP answer. Rules, in order:

1. A client certificate (verified by TLS against the configured CA) must name the charger (its CN).
2. Security profile 3: a client certificate naming the charger is required, and is enough.
3. Profile 2 needs TLS; profiles 1 and 2 need a password on record and the right one in Basic auth.
   No profile on record: the password is checked if one is set (chargers added before profiles were stored).
4. A password already known good (cached digest) is admitted even while throttled: chargers behind one
   carrier NAT address are not locked out by a neighbour's attacker. Any other password from a charger id
   or address over its failure limit is refused with 429 without running scrypt.
5. scrypt runs off the event loop (``offload``); at most ``max_pending`` checks wait for it, the rest get 503.
6. During a credential change (``services.credentials``) the old credentials keep working: the previous
   password opens the link as the current one does, and a charger being raised to profile 3 is also admitted
   with a client certificate naming it. Admissions that move the change on are told to the directory
   (``Directory.seen``): the current password while a previous one is kept, or the profile raised to met.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from chargewise.services.directory import Directory, Entry, Offload
from chargewise.services.throttle import Throttle, ThrottleLimits

UNAUTHORIZED = (("WWW-Authenticate", 'Basic realm="ocpp"'),)


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthLimits:
    charger_failures: int = 5  # wrong passwords per charger id within `window` before 429 (0: no limit)
    address_failures: int = 20  # per remote address (several chargers may share one NAT address)
    window: float = 60.0  # seconds
    max_pending: int = 64  # password checks waiting for scrypt at most; more are refused with 503


@dataclass(frozen=True, kw_only=True, slots=True)
class Knock:
    charger_id: str
    credentials: tuple[str, str] | None  # Basic auth (user, password), if given and readable
    address: str  # the peer's IP address
    secure: bool  # over TLS
    certificate_names: tuple[str, ...] = ()  # common names of the verified client certificate (none: empty)


@dataclass(frozen=True, kw_only=True, slots=True)
class Denial:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()


class Deferred(Enum):
    SCRYPT = "the password needs scrypt: await Gatekeeper.check"


class Gatekeeper:
    def __init__(
        self, *, directory: Directory, offload: Offload, monotonic: Callable[[], float], limits: AuthLimits
    ) -> None:
        self.directory = directory
        self.limits = limits
        self._offload = offload
        self._monotonic = monotonic
        self._per_charger = Throttle(ThrottleLimits(failures=limits.charger_failures, window=limits.window))
        self._per_address = Throttle(ThrottleLimits(failures=limits.address_failures, window=limits.window))
        self._pending = 0

    def judge(self, knock: Knock) -> Denial | Deferred | None:
        """The answer when it needs no scrypt (None: hand the request on to the handshake, which applies the
        path, subprotocol and unknown-charger rules; a Denial: answer with it); else ``Deferred.SCRYPT``:
        ``await check(knock)`` for the answer."""
        names, cid = knock.certificate_names, knock.charger_id
        if names and cid not in names:
            return Denial(status=403, reason=f"client certificate is for {', '.join(names)}, not {cid}")
        entry = self.directory.get(cid)
        if entry is None:
            return None  # unknown chargers have nothing to check here
        if entry.pending_security_profile == 3 and cid in names and knock.secure:  # rule 6
            return self._admitted(entry, knock)
        denial = profile_denial(entry, knock)
        if denial is not None or entry.security_profile == 3 or entry.password_hash is None:
            return denial
        known = self.directory.known_password(entry, _password(knock))
        if known is not None:
            return self._admitted(entry, knock) if known else self._failed(knock)
        wait = self._retry_after(knock)
        if wait is not None:
            return Denial(status=429, reason="too many wrong passwords; retry later",
                          headers=(("Retry-After", str(math.ceil(wait))),))  # fmt: skip
        if self._pending >= self.limits.max_pending:
            return Denial(status=503, reason="too many logins at once; retry later", headers=(("Retry-After", "1"),))
        return Deferred.SCRYPT

    async def check(self, knock: Knock) -> Denial | None:
        """The answer to ``knock``, running scrypt through the offload if :meth:`judge` could not decide."""
        verdict = self.judge(knock)
        if not isinstance(verdict, Deferred):
            return verdict
        entry = self.directory.get(knock.charger_id)
        assert entry is not None
        self._pending += 1
        try:
            right = await self.directory.verify(entry, _password(knock), self._offload)
        finally:
            self._pending -= 1
        if self.directory.get(knock.charger_id) != entry:  # changed while scrypt ran: judge the new one
            return await self.check(knock)
        return self._admitted(entry, knock) if right else self._failed(knock)

    def _admitted(self, entry: Entry, knock: Knock) -> Denial | None:
        """Admit ``knock`` (None: no denial); tell the directory if that moves a credential change on (rule 6)."""
        pending = entry.pending_security_profile
        if pending == 3 and entry.charger_id in knock.certificate_names and knock.secure:
            self.directory.seen(entry.charger_id, "profile 3")
        elif pending == 2 and knock.secure:
            self.directory.seen(entry.charger_id, "profile 2")
        password = _password(knock)
        if entry.previous_password_hash is not None and password is not None:
            current = self.directory.uses_current(entry, password)
            self.directory.seen(entry.charger_id, "password" if current else "previous password")
        return None

    def _failed(self, knock: Knock) -> Denial:
        now = self._monotonic()
        self._per_charger.fail(knock.charger_id, now)
        self._per_address.fail(knock.address, now)
        return Denial(status=401, reason="bad or missing credentials", headers=UNAUTHORIZED)

    def _retry_after(self, knock: Knock) -> float | None:
        now = self._monotonic()
        waits = [w for w in (self._per_charger.retry_after(knock.charger_id, now),
                             self._per_address.retry_after(knock.address, now)) if w is not None]  # fmt: skip
        return max(waits) if waits else None


def _password(knock: Knock) -> str | None:
    """The Basic-auth password, if the user name is the charger id."""
    return knock.credentials[1] if knock.credentials and knock.credentials[0] == knock.charger_id else None


def profile_denial(entry: Entry, knock: Knock) -> Denial | None:
    """Why ``knock`` does not meet the security profile ``entry`` is registered for (rules 2-3), or None."""
    cid, profile = entry.charger_id, entry.security_profile
    if profile == 3:
        if cid in knock.certificate_names:
            return None
        return Denial(status=403, reason=f"{cid} uses security profile 3: connect over TLS with its client "
                                         f"certificate (CN={cid})")  # fmt: skip
    if profile == 2 and not knock.secure:
        return Denial(status=403, reason=f"{cid} uses security profile 2: connect over TLS (wss://)")
    if profile in (1, 2) and entry.password_hash is None:
        return Denial(status=403, reason=f"{cid} uses security profile {profile} but has no password: set one "
                                         f"with: chargewise chargers set-password {cid}")  # fmt: skip
    return None
