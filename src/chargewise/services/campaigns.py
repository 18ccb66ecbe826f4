"""OTA campaigns as use cases, and the loop that runs them (rules in ``firmware/campaign.py``).

Start, pause, resume and abort work on the store alone, so the CLI uses them without a server; a running
server's loop (:meth:`Campaigns.run`) picks the change up at its next turn. Every turn it reads the active
campaigns, looks at the waiting chargers of their current group (connected? a transaction running?), asks
``firmware.campaign.step`` what to do, stores that, and only then sends the UpdateFirmwares. Charger reports
(:meth:`firmware_status`, :meth:`booted`) move their charger at once and are answered once stored. Nothing
lives only in memory: a server restarted mid-campaign goes on from the store.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Clock, Store
from chargewise.firmware import campaign as machine
from chargewise.firmware.amounts import parse_amount
from chargewise.firmware.artifacts import Artifact, fitting, of_version
from chargewise.firmware.campaign import IN_FLIGHT, Campaign, Observation, Stage, State, Target
from chargewise.firmware.commands import Order, answer_status, update_firmware
from chargewise.firmware.errors import FirmwareError
from chargewise.firmware.selectors import Facts, parse_selector, select
from chargewise.firmware.store import FirmwareStore, Note
from chargewise.firmware.window import parse_window
from chargewise.ocpp.errors import LocalProtocolError
from chargewise.services.connections import CallOutcome, CallTimeout, ChargerOffline, NotAccepted

log = logging.getLogger(__name__)
ACTIVE = frozenset({State.RUNNING, State.PAUSED, State.HALTED, State.ABORTED})


class Peer(Protocol):
    """The live link speaking for a charger (``services.connections.Link``): its OCPP version."""

    @property
    def version(self) -> OcppVersion: ...


class Commands(Protocol):
    """How campaigns reach chargers (``services.connections.Registry``)."""

    def get(self, charger_id: str) -> Peer | None: ...

    async def call(self, charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome: ...


#: the download URL of ``artifact`` for ``charger_id``, valid until the datetime (``adapters/http_firmware``)
Linker = Callable[[Artifact, str, datetime], str]


@dataclass(frozen=True, kw_only=True)
class CampaignRequest:
    """``campaign start``'s options as given (text), checked by :meth:`Campaigns.start`."""

    version: str
    select: str = ""
    canary: int = 1
    batch: str = "0"
    max_failures: str = "0"
    window: str | None = None
    timezone: str | None = None
    concurrency: int = 20
    retries: int = 3
    retry_interval_s: int = 60
    install_timeout_s: int = 3600
    link_ttl_s: int = 86_400


class Campaigns:
    """One per process. Without ``commands`` (the CLI) it only reads and changes the store."""

    def __init__(self, *, store: FirmwareStore, chargers: Store, clock: Clock, commands: Commands | None = None,
                 link: Linker | None = None, sites: Mapping[str, tuple[str, ...]] | None = None,
                 tick_s: float = 5.0) -> None:  # fmt: skip
        self.store = store
        self.chargers = chargers
        self.clock = clock
        self.commands = commands
        self.link = link
        self.sites = dict(sites or {})
        self.tick_s = tick_s
        #: whether this node drives the campaigns now (bootstrap: it holds the "campaigns" lease)
        self.gate: Callable[[], bool] = lambda: True
        self._lock = asyncio.Lock()
        self._campaigns: dict[str, Campaign] = {}
        self._targets: dict[str, dict[str, Target]] = {}
        self._where: dict[str, str] = {}  # charger id -> the active campaign holding it
        self._loaded = False

    # ------------------------------------------------------------------ use cases
    async def start(self, request: CampaignRequest, *, sites: Mapping[str, tuple[str, ...]] | None = None) -> Campaign:
        """Check the request against the fleet and the artifacts, store the campaign; :class:`FirmwareError`
        names the field and the fix."""
        now = self.clock.now()
        candidates = of_version(await self.store.artifacts(), request.version)
        selector = parse_selector(request.select)
        if request.canary < 0:
            raise FirmwareError("--canary", f"{request.canary} is negative", "give 0 or more chargers")
        for name, value in (("--concurrency", request.concurrency), ("--install-timeout", request.install_timeout_s)):
            if value < 1:
                raise FirmwareError(name, f"{value} is below 1", "give at least 1")
        batch = parse_amount(request.batch, "--batch")
        failures = parse_amount(request.max_failures, "--max-failures")
        window = parse_window(request.window, request.timezone) if request.window else None
        fleet = await self._fleet(sites if sites is not None else self.sites)
        chosen = select(selector, fleet)
        busy = await self._in_campaigns()
        for facts in chosen:
            if facts.charger_id in busy:
                raise FirmwareError("--select", f"charger {facts.charger_id!r} is in campaign {busy[facts.charger_id]}",
                                    "abort that campaign first, or select without this charger")  # fmt: skip
        todo = [f for f in chosen if f.firmware != request.version]
        if not todo:
            raise FirmwareError("--version", f"all {len(chosen)} selected chargers run {request.version} already",
                                "select other chargers or give another version")  # fmt: skip
        artifacts: dict[str, Artifact] = {}
        for facts in todo:
            found = fitting(candidates, facts.vendor, facts.model)
            if found is None:
                raise FirmwareError(
                    "--version",
                    f"no artifact of {request.version} is for {facts.charger_id} ({facts.vendor} {facts.model})",
                    "add one for that vendor and model (or for any)",
                )
            artifacts[facts.charger_id] = found
        ids = [f.charger_id for f in todo]
        groups = machine.groups(ids, min(request.canary, len(ids)), batch)
        campaign = Campaign(
            id=f"{now:%Y%m%d}-{secrets.token_hex(2)}", version=request.version, selector=selector.text(),
            created_at=now, canary=min(request.canary, len(ids)), batch=batch, max_failures=failures,
            concurrency=request.concurrency, window=window, retries=request.retries,
            retry_interval_s=request.retry_interval_s, install_timeout_s=request.install_timeout_s,
            link_ttl_s=request.link_ttl_s, groups=max(groups) + 1,
        )  # fmt: skip
        old = {f.charger_id: f.firmware for f in todo}
        targets = [Target(campaign_id=campaign.id, charger_id=cid, group=g, artifact_id=artifacts[cid].id,
                          old_version=old[cid], updated_at=now)
                   for cid, g in zip(ids, groups, strict=True)]  # fmt: skip
        skipped = len(chosen) - len(todo)
        text = f"started: {len(ids)} chargers in {campaign.groups} group(s), canary {campaign.canary}" + (
            f"; {skipped} already on {request.version}" if skipped else ""
        )
        await self.store.put_campaign(campaign, targets, [Note(campaign_id=campaign.id, at=now, charger_id=None,
                                                               text=text)])  # fmt: skip
        return campaign

    async def get(self, campaign_id: str) -> Campaign:
        found = await self.store.campaign(campaign_id)
        if found is None:
            raise FirmwareError("ID", f"no campaign {campaign_id[:30]!r}", "see `chargewise campaign list`")
        return found

    async def show(self, campaign_id: str) -> tuple[Campaign, list[Target], list[Note]]:
        found = await self.get(campaign_id)
        return found, await self.store.targets(campaign_id), await self.store.history(campaign_id)

    async def all(self) -> list[Campaign]:
        return await self.store.campaigns()

    async def pause(self, campaign_id: str) -> Campaign:
        return await self._command(campaign_id, State.PAUSED, frozenset({State.RUNNING}))

    async def resume(self, campaign_id: str) -> Campaign:
        return await self._command(campaign_id, State.RUNNING, frozenset({State.PAUSED, State.HALTED}))

    async def abort(self, campaign_id: str) -> Campaign:
        return await self._command(campaign_id, State.ABORTED, frozenset({State.RUNNING, State.PAUSED, State.HALTED}))

    async def _command(self, campaign_id: str, state: State, allowed: frozenset[State]) -> Campaign:
        found = await self.get(campaign_id)
        if found.state not in allowed:
            raise FirmwareError(
                "ID",
                f"campaign {campaign_id} is {found.state.value}",
                f"only a {' or '.join(sorted(s.value for s in allowed))} campaign can be {state.value}",
            )
        changed = machine.command(found, state, await self.store.targets(campaign_id))
        note = Note(campaign_id=campaign_id, at=self.clock.now(), charger_id=None, text=changed.reason)
        await self.store.put_campaign(changed, (), [note])
        return changed

    async def _fleet(self, sites: Mapping[str, tuple[str, ...]]) -> list[Facts]:
        return [Facts(charger_id=c.id, vendor=c.boot.vendor if c.boot else None,
                      model=c.boot.model if c.boot else None, firmware=c.boot.firmware_version if c.boot else None,
                      sites=sites.get(c.id, ())) for c in await self.chargers.list_chargers()]  # fmt: skip

    async def _in_campaigns(self) -> dict[str, str]:
        held = {}
        for c in await self.store.campaigns(states=ACTIVE):
            for t in await self.store.targets(c.id):
                if t.stage in IN_FLIGHT or (t.stage is Stage.WAITING and c.state is not State.ABORTED):
                    held[t.charger_id] = c.id
        return held

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        """Turn every ``tick_s`` until cancelled; a failed turn is logged and the next one tries again."""
        while True:
            try:
                if self.gate():  # in a cluster, one node drives the campaigns (a lease); every node records
                    await self.turn()  # the statuses and boots of the chargers linked to it
            except Exception:
                log.exception("firmware campaigns: a turn failed; retrying in %.0f s", self.tick_s)
            await asyncio.sleep(self.tick_s)

    async def turn(self) -> None:
        """One turn over every active campaign (see the module docstring)."""
        for stored in await self.store.campaigns(states=ACTIVE):
            async with self._lock:
                sends = await self._turn(stored)
            if sends:
                await asyncio.gather(*(self._send(stored, t) for t in sends))

    async def _turn(self, stored: Campaign) -> list[Target]:
        now = self.clock.now()
        targets = await self._load(stored)
        if stored.state is not State.RUNNING and not any(t.stage in IN_FLIGHT or t.stage is Stage.WAITING
                                                         for t in targets.values()):  # fmt: skip
            return []
        seen = await self._observe(stored, list(targets.values()), now)
        decided = machine.step(stored, list(targets.values()), seen, now)
        if decided.campaign == stored and not decided.changed and not decided.notes:
            return []
        if await self.store.campaign(stored.id) != stored:  # changed meanwhile (the CLI): decide again next turn
            return []
        notes = [Note(campaign_id=stored.id, at=now, charger_id=cid, text=text) for cid, text in decided.notes]
        notes += [Note(campaign_id=stored.id, at=now, charger_id=t.charger_id, text="UpdateFirmware sent")
                  for t in decided.send]  # fmt: skip
        await self.store.put_campaign(decided.campaign, decided.changed, notes)
        self._campaigns[stored.id] = decided.campaign
        for t in decided.changed:
            targets[t.charger_id] = t
        for note in notes:
            log.info("campaign %s: %s%s", stored.id, f"{note.charger_id}: " if note.charger_id else "", note.text)
        if decided.campaign.group != stored.group:  # a group began: its chargers can start in this turn
            return decided.send + await self._turn(decided.campaign)
        return decided.send

    async def _observe(self, campaign: Campaign, targets: list[Target], now: datetime) -> dict[str, Observation]:
        """Look at as many waiting chargers as there are free slots (a transaction is a query each)."""
        slots = campaign.concurrency - sum(1 for t in targets if t.stage in IN_FLIGHT)
        seen: dict[str, Observation] = {}
        for t in machine.waiting(campaign, targets, now):
            if len(seen) >= slots or self.commands is None:
                break
            if self.commands.get(t.charger_id) is None:
                continue
            busy = bool(await self.chargers.active_transactions(t.charger_id))
            if not busy:
                seen[t.charger_id] = Observation(connected=True, busy=False)
        return seen

    async def _load(self, campaign: Campaign) -> dict[str, Target]:
        if campaign.id not in self._targets:
            self._targets[campaign.id] = {t.charger_id: t for t in await self.store.targets(campaign.id)}
        self._campaigns[campaign.id] = campaign
        for t in self._targets[campaign.id].values():
            if t.stage in IN_FLIGHT or t.stage is Stage.WAITING:
                self._where[t.charger_id] = campaign.id
        return self._targets[campaign.id]

    async def _send(self, campaign: Campaign, target: Target) -> None:
        now = self.clock.now()
        assert self.commands is not None and self.link is not None  # the server's loop has both
        artifact = await self.store.artifact(target.artifact_id)
        peer = self.commands.get(target.charger_id)
        if artifact is None:
            return await self._answered(target, lambda t: replace(t, stage=Stage.FAILED, updated_at=now,
                                                                   detail="its artifact was deleted"))  # fmt: skip
        if peer is None:
            return await self._answered(target, lambda t: machine.on_unsent(t, "not connected", now))
        url = self.link(artifact, target.charger_id, now + timedelta(seconds=campaign.link_ttl_s))
        order = Order(url=url, at=now, request_id=target.request_id, retries=campaign.retries,
                      retry_interval_s=campaign.retry_interval_s)  # fmt: skip
        action, payload = update_firmware(peer.version, artifact, order)
        try:
            outcome = await self.commands.call(target.charger_id, action, payload)
        except (ChargerOffline, CallTimeout, NotAccepted) as exc:
            why = str(exc) or type(exc).__name__
            return await self._answered(target, lambda t: machine.on_unsent(t, why, now))
        except LocalProtocolError as exc:  # our payload broke the schema: a bug, the charger is not to blame
            log.error("campaign %s: %s refused our %s: %s", campaign.id, target.charger_id, action, exc)
            broken = f"invalid {action}: {exc}"
            return await self._answered(target, lambda t: replace(t, stage=Stage.FAILED, updated_at=now,
                                                                   detail=broken))  # fmt: skip
        status = answer_status(outcome.payload or {})
        await self._answered(target, lambda t: machine.on_answer(t, status, outcome.error_code, now))

    async def _answered(self, sent: Target, change: Callable[[Target], Target]) -> None:
        """Apply what the send's answer means to the charger, unless its reports moved it on already."""
        async with self._lock:
            current = self._targets.get(sent.campaign_id, {}).get(sent.charger_id)
            if current is None or current.attempts != sent.attempts or current.stage is not Stage.SENT:
                return
            if current.last_status:
                return
            changed = change(current)
            if changed != current:
                await self._keep(changed, changed.detail)

    async def _keep(self, target: Target, text: str) -> None:
        note = Note(campaign_id=target.campaign_id, at=self.clock.now(), charger_id=target.charger_id, text=text)
        await self.store.put_targets([target], [note])
        self._targets[target.campaign_id][target.charger_id] = target
        log.info("campaign %s: %s: %s", target.campaign_id, target.charger_id, text)

    # ------------------------------------------------------------------ charger reports
    async def _held(self, charger_id: str) -> tuple[Campaign, Target] | None:
        if not self._loaded:
            for stored in await self.store.campaigns(states=ACTIVE):
                await self._load(stored)
            self._loaded = True
        campaign_id = self._where.get(charger_id)
        if campaign_id is None:
            return None
        target = self._targets[campaign_id].get(charger_id)
        return (self._campaigns[campaign_id], target) if target is not None else None

    async def firmware_status(self, charger_id: str, status: str, request_id: int | None, at: datetime) -> None:
        async with self._lock:
            held = await self._held(charger_id)
            if held is None:
                return
            moved = machine.on_status(held[1], status, request_id, at)
            if moved is not None:
                await self._keep(moved, f"{status}" + (f": {moved.detail}" if moved.stage in machine.DONE else ""))

    async def booted(self, charger_id: str, version: str | None, reason: str | None, at: datetime) -> None:
        async with self._lock:
            held = await self._held(charger_id)
            if held is None:
                return
            moved = machine.on_boot(held[1], version, reason, held[0].version, at)
            if moved is not None:
                await self._keep(moved, f"booted {version}: {moved.detail}")


def progress(targets: Sequence[Target]) -> dict[str, int]:
    """How many chargers are at each stage (every stage named, zeros included)."""
    counts = {stage.value: 0 for stage in Stage}
    for t in targets:
        counts[t.stage.value] += 1
    return counts
