"""Local authorization lists from the id-token store: push them to chargers (SendLocalList, Full then
Differential, within the charger's bounds), keep what each accepted (``FleetStore``), push again when tokens
change or a charger comes back, and clear authorization caches when a token stops being Accepted.

What a push does, per charger: read its bounds once per boot (1.6 GetConfiguration LocalAuthListEnabled,
LocalAuthListMaxLength, SendLocalListMaxLength; 2.0.1 GetVariables LocalAuthListCtrlr Enabled and
ItemsPerMessage), ask GetLocalListVersion, plan (``fleet.local_list``), send, and record each accepted message
at once (a push cut off half-way resumes from what the charger has). A VersionMismatch starts over Full, once.

:meth:`run` is the background job: every ``every`` seconds it compares each connected charger's wanted list with
what it holds (token changes made by any process show up so), and pushes at once to chargers :meth:`poke`\\ d
(a reconnect or a boot: ``CentralSystem.on_online``). It keeps *enrolled* chargers up to date: those that took a
list from us once (the operator's first ``tokens push CHARGER|--all``), or every charger with ``everyone``. A
charger nobody enrolled is sent nothing unasked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chargewise.domain.fleet_ports import LocalListStore
from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Clock, TokenStore
from chargewise.fleet.local_list import (
    CachePolicy,
    Entry,
    HeldList,
    Limits,
    Update,
    UpdateType,
    applied,
    newly_refused,
    plan,
    wanted,
)
from chargewise.services.connections import CallOutcome

log = logging.getLogger(__name__)
Call = Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]]
POKE_DELAY = 1.0  # s after a connection or boot: the BootNotification's answer goes out first
CONCURRENT_PUSHES = 20


class ListNotPushed(Exception):
    """The charger cannot take a list now (disabled, not supported, refused): the message says why and what to
    do; ``ChargerOffline`` and the other ``Registry.call`` errors pass through as they are."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Sent:
    kind: UpdateType
    version: int
    entries: int
    status: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PushResult:
    charger_id: str
    version: int | None  # the charger's list version afterwards
    sent: tuple[Sent, ...] = ()
    left_out: tuple[str, ...] = ()  # tags not listed (the charger's maximum length, or too long)
    cache_cleared: bool = False


@dataclass(kw_only=True)
class _Charger:
    limits: Limits | None = None
    due: float | None = None  # monotonic time of a poked push


@dataclass(kw_only=True)
class LocalLists:
    """Build one per server in ``bootstrap``; ``connected`` lists (charger id, version) of the live links."""

    store: LocalListStore
    tokens: TokenStore
    call: Call
    connected: Callable[[], list[tuple[str, OcppVersion]]]
    clock: Clock
    every: float = 30.0
    everyone: bool = False  # keep every charger's list up to date, not only the enrolled ones
    _chargers: dict[str, _Charger] = field(default_factory=dict)
    _last_tokens: list[tuple[str, str, datetime | None, str | None]] | None = None  # as of the last sweep
    _last_sweep: float = field(default_factory=time.monotonic)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _pushing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONCURRENT_PUSHES))

    # ------------------------------------------------------------------ pushing
    async def push(self, charger_id: str, version: OcppVersion, *, full: bool = False) -> PushResult:
        """Bring the charger's list up to date (``full``: send it whole, whatever it holds)."""
        async with self._pushing:
            limits = await self._limits(charger_id, version)
            now = self.clock.now()
            want, left_out = wanted(await self.tokens.list_tokens(), now, version, limits)
            held = before = await self.store.held_list(charger_id)
            charger_version = await self._version(charger_id, version)
            sent: list[Sent] = []
            for attempt in range(2):
                known = None if full or attempt else held.entries
                steps = plan(want, known, held.version, charger_version, limits, left_out)
                mismatch = await self._send(charger_id, version, held, steps.updates, sent)
                if not mismatch:
                    break
                charger_version = await self._version(charger_id, version)
                held = await self.store.held_list(charger_id)
            cleared = await self._clear_cache_if_refused(charger_id, before, want)
            final = await self.store.held_list(charger_id)
            return PushResult(charger_id=charger_id, version=final.version, sent=tuple(sent), left_out=left_out,
                              cache_cleared=cleared)  # fmt: skip

    async def push_all(self, *, full: bool = False) -> list[tuple[str, PushResult | BaseException]]:
        """Push to every connected charger: (charger id, its result or what it failed with), in id order."""
        links = sorted(self.connected())
        results = await asyncio.gather(*(self.push(cid, v, full=full) for cid, v in links), return_exceptions=True)
        return [(cid, result) for (cid, _), result in zip(links, results, strict=True)]

    async def _send(self, charger_id: str, version: OcppVersion, held: HeldList, updates: tuple[Update, ...],
                    sent: list[Sent]) -> bool:  # fmt: skip
        """Send ``updates`` in order, recording each accepted one; True on VersionMismatch (plan again)."""
        entries = held.entries
        for update in updates:
            outcome = await self.call(charger_id, "SendLocalList", send_local_list(version, update))
            status = str((outcome.payload or {}).get("status", outcome.error_code or "Failed"))
            sent.append(Sent(kind=update.kind, version=update.version, entries=len(update.items), status=status))
            if status == "VersionMismatch":
                return True
            if status != "Accepted":
                fix = "enable the local list on the charger" if status == "NotSupported" else "check the charger"
                raise ListNotPushed(f"{charger_id} answered SendLocalList {status}; {fix}")
            entries = applied(entries, update)
            await self.store.put_held_list(charger_id, update.version, entries, self.clock.now())
        return False

    async def _clear_cache_if_refused(self, charger_id: str, before: HeldList, want: dict[str, Entry]) -> bool:
        """ClearCache when the charger held an Accepted token that no longer is (its policy allowing)."""
        if before.cache_policy is not CachePolicy.CLEAR_ON_BLOCK or not newly_refused(before.entries, want):
            return False
        return await self.clear_cache(charger_id)

    async def clear_cache(self, charger_id: str) -> bool:
        outcome = await self.call(charger_id, "ClearCache", {})
        return bool(outcome.payload and outcome.payload.get("status") == "Accepted")

    async def _version(self, charger_id: str, version: OcppVersion) -> int:
        outcome = await self.call(charger_id, "GetLocalListVersion", {})
        key = "listVersion" if version is OcppVersion.V16 else "versionNumber"
        number = (outcome.payload or {}).get(key)
        if not isinstance(number, int):
            raise ListNotPushed(f"{charger_id} did not answer GetLocalListVersion ({outcome.error_code}); "
                                "check that it supports LocalAuthListManagement")  # fmt: skip
        if number < 0:
            raise ListNotPushed(f"{charger_id} has no local authorization list (version {number}); nothing to push")
        return number

    async def _limits(self, charger_id: str, version: OcppVersion) -> Limits:
        state = self._chargers.setdefault(charger_id, _Charger())
        if state.limits is None:
            state.limits = await read_limits(self.call, charger_id, version)
        return state.limits

    # ------------------------------------------------------------------ policy
    async def set_cache_policy(self, charger_id: str, policy: CachePolicy) -> None:
        await self.store.set_cache_policy(charger_id, policy)

    async def held(self, charger_id: str) -> HeldList:
        return await self.store.held_list(charger_id)

    # ------------------------------------------------------------------ background
    def poke(self, charger_id: str, *, booted: bool = False) -> None:
        """The charger connected (``booted``: it sent BootNotification, its bounds may have changed): push soon."""
        state = self._chargers.setdefault(charger_id, _Charger())
        if booted:
            state.limits = None
        state.due = time.monotonic() + POKE_DELAY
        self._wake.set()

    async def run(self) -> None:
        """Forever: poked chargers when due, every charger whose list differs from the wanted one every
        ``every`` seconds (and ClearCache where a token stopped being Accepted)."""
        while True:
            now = time.monotonic()
            due = [cid for cid, s in self._chargers.items() if s.due is not None and s.due <= now]
            sweep = now - self._last_sweep >= self.every
            if sweep:
                self._last_sweep = now
            try:
                await self._cycle(due, sweep)
            except Exception:
                log.exception("local list cycle failed; retrying in %.0f s", self.every)
            next_sweep = self._last_sweep + self.every
            wait = min([next_sweep] + [s.due for s in self._chargers.values() if s.due is not None]) - time.monotonic()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.05, wait))

    async def _cycle(self, due: list[str], sweep: bool) -> None:
        for charger_id in due:
            self._chargers[charger_id].due = None
        links = dict(self.connected())
        targets = {cid for cid in due if cid in links and (self.everyone or await self._enrolled(cid))}
        if sweep:
            targets |= await self._stale(links)
        results = await asyncio.gather(*(self.push(cid, links[cid]) for cid in sorted(targets)),
                                       return_exceptions=True)  # fmt: skip
        for charger_id, result in zip(sorted(targets), results, strict=True):
            if isinstance(result, BaseException):
                log.info("%s: local list not pushed: %s", charger_id, result)
                self._last_tokens = None  # the next sweep looks at every charger again

    async def _stale(self, links: dict[str, OcppVersion]) -> set[str]:
        """Connected chargers whose recorded list differs from the wanted one. Only when the tokens changed
        since the last sweep (their status at ``now`` included: an expiry passing counts): one read of the
        tokens, then one per connected charger. Lists only change through pushes, which pokes cover."""
        tokens = await self.tokens.list_tokens()
        now = self.clock.now()
        snapshot = [(t.id_tag, t.status_at(now).value, t.expires_at, t.parent_id_tag) for t in tokens]
        if snapshot == self._last_tokens:
            return set()
        self._last_tokens = snapshot
        stale = set()
        for charger_id, version in links.items():
            limits = self._chargers.get(charger_id, _Charger()).limits or Limits()
            want, _ = wanted(tokens, now, version, limits)
            held = await self.store.held_list(charger_id)
            if held.entries != want and (self.everyone or held.version is not None):
                stale.add(charger_id)
        return stale

    async def _enrolled(self, charger_id: str) -> bool:
        return (await self.store.held_list(charger_id)).version is not None


async def read_limits(call: Call, charger_id: str, version: OcppVersion) -> Limits:
    """The charger's list bounds; a key it does not know is no bound. A disabled list is ``ListNotPushed``."""
    if version is OcppVersion.V16:
        keys = ["LocalAuthListEnabled", "LocalAuthListMaxLength", "SendLocalListMaxLength"]
        outcome = await call(charger_id, "GetConfiguration", {"key": keys})
        values = {row.get("key"): row.get("value") for row in (outcome.payload or {}).get("configurationKey", [])}
        enabled, max_length, per_message = (values.get(k) for k in keys)
    else:
        names = ["Enabled", "ItemsPerMessage"]
        data = [{"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": n}} for n in names]
        outcome = await call(charger_id, "GetVariables", {"getVariableData": data})
        values = {r["variable"]["name"]: r.get("attributeValue") for r in (outcome.payload or {}).get(
            "getVariableResult", []) if r.get("attributeStatus") == "Accepted"}  # fmt: skip
        enabled, max_length, per_message = values.get("Enabled"), None, values.get("ItemsPerMessage")
    if isinstance(enabled, str) and enabled.strip().lower() == "false":
        setting = "LocalAuthListEnabled" if version is OcppVersion.V16 else "LocalAuthListCtrlr.Enabled"
        raise ListNotPushed(f"{charger_id} has its local list disabled ({setting} false); set it true first")
    return Limits(max_length=_count(max_length), per_message=_count(per_message))


def send_local_list(version: OcppVersion, update: Update) -> dict[str, Any]:
    """The SendLocalList payload of ``update`` in ``version``."""
    if version is OcppVersion.V16:
        items16 = [{"idTag": tag} | ({} if e is None else {"idTagInfo": _info16(e)}) for tag, e in update.items]
        return {"listVersion": update.version, "updateType": update.kind.value, "localAuthorizationList": items16}
    items = [{"idToken": {"idToken": tag, "type": "ISO14443"}} | ({} if e is None else {"idTokenInfo": _info201(e)})
             for tag, e in update.items]  # fmt: skip
    return {"versionNumber": update.version, "updateType": update.kind.value, "localAuthorizationList": items}


def _info16(e: Entry) -> dict[str, Any]:
    info: dict[str, Any] = {"status": e.status}
    if e.expires_at is not None:
        info["expiryDate"] = format_time(e.expires_at)
    if e.parent is not None:
        info["parentIdTag"] = e.parent[:20]
    return info


def _info201(e: Entry) -> dict[str, Any]:
    info: dict[str, Any] = {"status": e.status}
    if e.expires_at is not None:
        info["cacheExpiryDateTime"] = format_time(e.expires_at)
    if e.parent is not None:
        info["groupIdToken"] = {"idToken": e.parent[:36], "type": "Central"}
    return info


def _count(value: object) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def format_time(moment: datetime) -> str:
    """UTC with millisecond precision and a Z (as ``handlers.context.format_time``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
