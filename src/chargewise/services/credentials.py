"""Credential changes on a live charger: rotate its Basic-auth password, raise its security profile.

Rules (``security.commands`` says which message carries each change in each version):

1. A rotation never locks a charger out. Before the new password is sent, its hash is stored as the
   previous password (both open the link while the charger answers); the moment the charger takes it, the new
   hash is the one in force and the old one the previous. The previous password keeps working until the
   charger connects with the new one, then it is dropped (``seen``; also when it reconnected with the new one
   before its answer arrived, as a 1.6 charger does at once). Refused: the old credentials are put back.
   No answer (timeout, link lost): both stay valid, the new one in force, as the charger may have taken it.
2. A raise keeps the old profile as the fallback. The profile being raised to is stored as pending; the
   charger is admitted with its old credentials or with the new profile (``services.gatekeeper`` rule 6). It
   takes the change and resets; once it connects meeting the new profile, that profile is the one in force
   and lower ones are refused from then on. If it has not done so within the deadline, the raise is called
   off: the pending profile is cleared and its old profile and credentials stay valid; the result says so.
3. One change at a time per charger; a person gets one line for every refusal (``AdminError``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from chargewise.domain.model import Charger, Credentials, OcppVersion
from chargewise.domain.ports import ChargerStore
from chargewise.security import commands
from chargewise.services.admin_errors import InvalidRequest, NotFound, storable
from chargewise.services.connections import CallOutcome, CallTimeout, ChargerOffline, Registry
from chargewise.services.directory import Directory, entry_for
from chargewise.services.passwords import check_new_password, hash_password

log = logging.getLogger(__name__)
Call = Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]]
DEFAULT_DEADLINE = 300.0  # s for a charger to come back with its raised profile


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeResult:
    charger_id: str
    change: str  # "password" or "security profile N"
    done: bool  # the change is in force (a rotation: the charger took the new password)
    status: str  # the charger's answer (Accepted, Rejected, ...), or Timeout / Offline / Reconnected / NotReconnected
    detail: str  # one line for a person: what happened and what holds now


class Busy(InvalidRequest):
    """Another change of this charger's credentials is under way (REST 409)."""


class CredentialChanges:
    """Build one per server (``bootstrap``) and set ``directory.credentials_seen = changes.seen``."""

    def __init__(self, *, store: ChargerStore, directory: Directory, registry: Registry, tls: bool,
                 client_certificates: bool) -> None:  # fmt: skip
        self._store = store
        self._directory = directory
        self._registry = registry
        self._tls = tls  # the OCPP port serves wss://
        self._client_certificates = client_certificates  # and verifies client certificates (profile 3)
        self._busy: set[str] = set()
        self._raises: dict[str, tuple[int, asyncio.Future[None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._early: set[str] = set()  # reconnected with the new password before its rotation was answered

    # ------------------------------------------------------------------ password rotation (rule 1)
    async def rotate_password(self, charger_id: str, password: str | None = None) -> ChangeResult:
        """Send a new password (``None``: 24 random characters, not shown anywhere) and store it as rule 1 says."""
        if password is not None:
            try:
                check_new_password(password)
            except ValueError as exc:
                fix = "choose a password of 16 to 40 characters, or let one be made"
                raise InvalidRequest(str(exc), fix=fix) from None
        charger, version = await self._live(charger_id)
        new = password if password is not None else secrets.token_urlsafe(15)  # 20 characters: fits 1.6 too
        problem = commands.password_problem(version, new)
        if problem is not None:
            raise InvalidRequest(f"password: {problem}", fix="choose a shorter one, or let one be made")
        new_hash = await asyncio.to_thread(hash_password, new)
        before = charger.credentials
        with self._turn(charger_id):
            self._early.discard(charger_id)
            await self._write(charger_id, replace(before, previous_password_hash=new_hash))
            try:
                outcome = await self._registry.call(charger_id, *commands.password_change(version, new))
            except (CallTimeout, ChargerOffline) as exc:
                await self._write(charger_id, replace(before, password_hash=new_hash,
                                                      previous_password_hash=before.password_hash))  # fmt: skip
                status = "Timeout" if isinstance(exc, CallTimeout) else "Offline"
                return ChangeResult(charger_id=charger_id, change="password", done=False, status=status,
                                    detail="no answer: the new password is in force and the old one stays valid "
                                           "until the charger connects with the new one")  # fmt: skip
            status = commands.change_taken(version, outcome.payload or {}) if outcome.ok else str(outcome.error_code)
            if status not in commands.TAKEN:
                await self._write(charger_id, before)
                return ChangeResult(charger_id=charger_id, change="password", done=False, status=status,
                                    detail=f"the charger answered {status}: it keeps its old password")  # fmt: skip
            early = charger_id in self._early  # it reconnected with the new one while the answer was on its way
            await self._write(
                charger_id,
                replace(before, password_hash=new_hash, previous_password_hash=None if early else before.password_hash),
            )
        kept = " and the old one stays valid until it connects with the new one" if before.password_hash else ""
        return ChangeResult(charger_id=charger_id, change="password", done=True, status=status,
                            detail=f"the charger took the new password; it is stored hashed{kept}")  # fmt: skip

    # ------------------------------------------------------------------ security profile raise (rule 2)
    async def raise_profile(self, charger_id: str, profile: int, *, csms_url: str | None = None,
                            deadline: float = DEFAULT_DEADLINE, interface: str = "Wired0") -> ChangeResult:  # fmt: skip
        """Raise to ``profile`` (2 or 3) and wait until the charger is back with it, at most ``deadline`` s."""
        charger, version = await self._live(charger_id)
        self._check_raise(charger, version, profile, csms_url, deadline)
        change, old = f"security profile {profile}", charger.security_profile or 1
        with self._turn(charger_id):
            priority = [0]
            if version is OcppVersion.V201:
                read = await self._registry.call(charger_id, *commands.read_priority())
                priority = commands.current_priority(read.payload or {})
            plan = commands.raise_profile(version, profile, csms_url=csms_url or "", priority=priority,
                                          interface=interface)  # fmt: skip
            before = charger.credentials
            back: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._raises[charger_id] = (profile, back)
            await self._write(charger_id, replace(before, pending_security_profile=profile))
            try:
                for action, payload in plan.calls:
                    outcome = await self._registry.call(charger_id, action, payload)
                    status = commands.step_taken(action, version, outcome.payload or {}) if outcome.ok \
                        else str(outcome.error_code)  # fmt: skip
                    if status not in commands.TAKEN:
                        await self._call_off(charger_id, profile)
                        return ChangeResult(
                            charger_id=charger_id,
                            change=change,
                            done=False,
                            status=status,
                            detail=f"the charger answered {action} {status}: it keeps profile {old}",
                        )
                try:
                    await asyncio.wait_for(asyncio.shield(back), deadline)
                except TimeoutError:
                    await self._call_off(charger_id, profile)
                    return ChangeResult(
                        charger_id=charger_id, change=change, done=False, status="NotReconnected",
                        detail=f"not back with profile {profile} within {deadline:g} s: it keeps profile {old} and "
                               f"its old credentials stay valid",
                    )  # fmt: skip
            except (CallTimeout, ChargerOffline):
                await self._call_off(charger_id, profile)
                raise
            finally:
                self._raises.pop(charger_id, None)
        return ChangeResult(charger_id=charger_id, change=change, done=True, status="Reconnected",
                            detail=f"back with profile {profile}; lower profiles are refused from now on")  # fmt: skip

    def _check_raise(self, charger: Charger, version: OcppVersion, profile: int, csms_url: str | None,
                     deadline: float) -> None:  # fmt: skip
        cid, now = charger.id, charger.security_profile or 1
        if profile not in (2, 3):
            raise InvalidRequest(f"profile {profile} cannot be raised to", fix="give 2 or 3")
        if profile <= now:
            raise InvalidRequest(f"{cid} has profile {now} already", fix=f"give a profile above {now}")
        if not 0 < deadline <= 3600:
            raise InvalidRequest(f"deadline {deadline:g} s is out of range", fix="give 1 to 3600 seconds")
        if not self._tls:
            raise InvalidRequest(f"profile {profile} needs TLS on the OCPP port",
                                 fix="start the server with --tls-cert and --tls-key")  # fmt: skip
        if profile == 3 and not self._client_certificates:
            raise InvalidRequest(
                "profile 3 needs client certificates verified on the OCPP port",
                fix="start the server with TLS (the CSMS CA is trusted then) or --tls-client-ca",
            )
        if profile == 2 and charger.password_hash is None:
            raise InvalidRequest(f"profile 2 needs a password and {cid} has none",
                                 fix=f"rotate one first: chargewise chargers rotate-password {cid}")  # fmt: skip
        if version is OcppVersion.V201 and not (csms_url or "").startswith("wss://"):
            raise InvalidRequest("csms_url: a 2.0.1 charger needs the wss:// URL to connect to (without its id)",
                                 fix="give e.g. wss://csms.example.com:9000/ocpp")  # fmt: skip

    async def _call_off(self, charger_id: str, profile: int) -> None:
        charger = await self._store.get_charger(charger_id)
        if charger is not None and charger.pending_security_profile == profile:
            await self._write(charger_id, replace(charger.credentials, pending_security_profile=None))

    # ------------------------------------------------------------------ what the gatekeeper saw
    def seen(self, charger_id: str, what: str) -> None:
        """``Directory.credentials_seen``: the charger connected with the current password, or meeting the
        profile it is raised to; finish the change in the store (a task, kept until it is done)."""
        if what in ("password", "previous password") and charger_id in self._busy:
            if what == "previous password":  # during a rotation the previous one is the new password
                self._early.add(charger_id)
            return  # the rotation writes the outcome itself
        if what == "previous password":
            return  # the old password still opens the link: nothing moves on
        task = asyncio.get_running_loop().create_task(self._complete(charger_id, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _complete(self, charger_id: str, what: str) -> None:
        try:
            charger = await self._store.get_charger(charger_id)
            if charger is None:
                return
            now = charger.credentials
            if what == "password" and now.previous_password_hash is not None:
                await self._write(charger_id, replace(now, previous_password_hash=None))
                log.info("%s connected with its new password: the old one no longer opens the link", charger_id)
            elif what.startswith("profile ") and now.pending_security_profile == int(what.split()[1]):
                raised = now.pending_security_profile
                await self._write(charger_id, replace(now, security_profile=raised, pending_security_profile=None,
                                                      previous_password_hash=None))  # fmt: skip
                log.info("%s connected with security profile %s: lower ones are refused now", charger_id, raised)
                waiting = self._raises.get(charger_id)
                if waiting is not None and waiting[0] == raised and not waiting[1].done():
                    waiting[1].set_result(None)
        except Exception:
            log.exception("%s: the credential change could not be completed (%s)", charger_id, what)

    # ------------------------------------------------------------------ helpers
    async def _live(self, charger_id: str) -> tuple[Charger, OcppVersion]:
        charger = await self._store.get_charger(charger_id) if storable(charger_id) else None
        if charger is None:
            raise NotFound(f"no charger {charger_id[:60]!r}", fix="list the chargers to see their ids")
        link = self._registry.get(charger_id)
        if link is None:
            raise ChargerOffline(f"charger {charger_id!r} is not connected")
        return charger, link.version

    def _turn(self, charger_id: str) -> _Turn:
        if charger_id in self._busy:
            raise Busy(f"a credential change of {charger_id} is under way", fix="wait for it to finish, then retry")
        return _Turn(self._busy, charger_id)

    async def _write(self, charger_id: str, credentials: Credentials) -> None:
        await self._store.set_credentials(charger_id, credentials)
        charger = await self._store.get_charger(charger_id)
        if charger is not None:
            self._directory.put(entry_for(charger))

    async def drain(self) -> None:
        """Let completions under way finish (server stop)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)


class _Turn:
    """Holds the charger's one change at a time (rule 3) for a ``with`` block."""

    def __init__(self, busy: set[str], charger_id: str) -> None:
        self._busy, self._charger_id = busy, charger_id
        busy.add(charger_id)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self._busy.discard(self._charger_id)
