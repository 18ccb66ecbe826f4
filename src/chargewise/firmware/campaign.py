"""The OTA campaign state machine. Everything that moves a campaign or one of its chargers lives here.

Rules:

1. The chargers are fixed when the campaign starts, in id order: the first ``canary`` form group 0, the rest
   batches of ``batch`` (N, or P% of the rest; 0: one batch). Only the current group's chargers are started;
   the next group begins when every charger of the current one has succeeded or failed.
2. A charger is started (sent UpdateFirmware) only while the campaign is running, the maintenance window is
   open, the charger is connected and idle (no transaction on any EVSE: a 1.6 charger installs "as soon as it
   is able to", so idleness is ours to wait for; a 2.0.1 one waits for its transactions by itself, we wait
   anyway), and never more than ``concurrency`` chargers are in flight at once.
3. Failures are counted over the groups begun so far; more than ``max_failures`` (N, or P% of those
   chargers) halts the campaign: nothing new starts, and it says why. Chargers in flight are still followed.
   Resuming a halted campaign forgives the failures counted so far.
4. Success is the charger's Installed status and a BootNotification with the campaign's version, both before
   the deadline (``install_timeout_s`` after the send). A boot into another version once installing had
   begun is a rollback: failed. A failure status (:data:`FAILURES`), a refused UpdateFirmware or the deadline
   passing fails the charger.
5. A send that does not reach the charger (offline, timeout) is retried after ``RESEND_AFTER``; after
   ``SEND_ATTEMPTS`` such tries the charger has failed.
6. A status carrying a requestId other than the charger's current one is stale (an earlier request) and is
   ignored; so is any status or boot of a charger not in flight.
7. Pause: nothing new starts; resume continues. Abort: nothing new ever starts; chargers not yet started are
   skipped. A campaign whose chargers have all finished is completed (or halted, rule 3).

Time and observations come in as data; the service (``services/campaigns.py``) stores what changed and does
what is asked.
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chargewise.firmware.amounts import Amount
from chargewise.firmware.window import Window, is_open

RESEND_AFTER = timedelta(seconds=30)
ALL_AT_ONCE = Amount(value=0)  # batch: the rest in one; max_failures: none allowed
SEND_ATTEMPTS = 5


class State(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    HALTED = "halted"
    COMPLETED = "completed"
    ABORTED = "aborted"


class Stage(enum.StrEnum):
    WAITING = "waiting"  # not started
    SENT = "sent"  # UpdateFirmware sent or accepted, no progress reported yet
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    INSTALLING = "installing"
    INSTALLED = "installed"  # Installed reported, or booted the new version: waiting for the other
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # aborted before it started


IN_FLIGHT = frozenset({Stage.SENT, Stage.DOWNLOADING, Stage.DOWNLOADED, Stage.INSTALLING, Stage.INSTALLED})
DONE = frozenset({Stage.SUCCEEDED, Stage.FAILED, Stage.SKIPPED})
INSTALL_BEGUN = frozenset({Stage.INSTALLING, Stage.INSTALLED})

#: FirmwareStatusNotification (1.6, 1.6 Signed..., 2.0.1) status -> the stage it moves a charger in flight to
PROGRESS: dict[str, Stage] = {
    "DownloadScheduled": Stage.SENT, "Downloading": Stage.DOWNLOADING, "DownloadPaused": Stage.DOWNLOADING,
    "Downloaded": Stage.DOWNLOADED, "SignatureVerified": Stage.DOWNLOADED, "InstallScheduled": Stage.DOWNLOADED,
    "Installing": Stage.INSTALLING, "InstallRebooting": Stage.INSTALLING,
}  # fmt: skip
#: statuses that fail the charger, with the sentence the campaign shows
FAILURES: dict[str, str] = {
    "DownloadFailed": "the download failed", "InvalidSignature": "the charger found the signature invalid",
    "InstallVerificationFailed": "the image failed the charger's verification",
    "InstallationFailed": "the installation failed",
}  # fmt: skip
#: UpdateFirmware answers (2.0.1 status; 1.6 answers an empty object) that mean the charger took it
TAKEN = frozenset({"Accepted", "AcceptedCanceled", None})


@dataclass(frozen=True, kw_only=True, slots=True)
class Campaign:
    id: str
    version: str
    selector: str
    created_at: datetime
    canary: int = 1
    batch: Amount = ALL_AT_ONCE
    max_failures: Amount = ALL_AT_ONCE
    concurrency: int = 20
    window: Window | None = None
    retries: int = 3  # the charger's own download retries (UpdateFirmware.retries)
    retry_interval_s: int = 60
    install_timeout_s: int = 3600
    link_ttl_s: int = 86_400  # how long a charger's download link stays valid
    state: State = State.RUNNING
    reason: str = ""
    group: int = 0  # the group being updated (rule 1)
    groups: int = 1
    forgiven: int = 0  # failures a resume forgave (rule 3)


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    campaign_id: str
    charger_id: str
    group: int
    artifact_id: str
    old_version: str | None = None
    stage: Stage = Stage.WAITING
    attempts: int = 0  # UpdateFirmware sends
    request_id: int = 0
    sent_at: datetime | None = None
    not_before: datetime | None = None
    reported_installed: bool = False
    booted_new: bool = False
    last_status: str = ""
    detail: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Observation:
    connected: bool
    busy: bool  # a transaction is running on the charger


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """What :func:`step` decided: the campaign as it is now, targets that changed, the ones to send
    UpdateFirmware to (already marked sent), and lines for the campaign's history."""

    campaign: Campaign
    changed: list[Target]
    send: list[Target]
    notes: list[tuple[str | None, str]]


def groups(charger_ids: list[str], canary: int, batch: Amount) -> list[int]:
    """Rule 1: each charger's group, in the order given."""
    rest = max(len(charger_ids) - canary, 0)
    size = batch.of(rest) or rest or 1
    first = 1 if canary > 0 else 0
    return [0 if i < canary else first + (i - canary) // size for i in range(len(charger_ids))]


def request_id(campaign_id: str, charger_id: str, attempt: int) -> int:
    """The 2.0.1 requestId of a send: the same for the same send after a restart, different per attempt."""
    return zlib.crc32(f"{campaign_id}/{charger_id}/{attempt}".encode()) & 0x7FFFFFFF


def on_status(target: Target, status: str, req: int | None, at: datetime) -> Target | None:
    """A FirmwareStatusNotification for the target's charger; None: it changes nothing (rule 6)."""
    if target.stage not in IN_FLIGHT or (req is not None and req != target.request_id):
        return None
    moved = replace(target, last_status=status, updated_at=at)
    if status in FAILURES:
        return replace(moved, stage=Stage.FAILED, detail=FAILURES[status])
    if status == "Installed":
        if target.booted_new:
            return replace(moved, stage=Stage.SUCCEEDED, reported_installed=True, detail="installed and booted")
        return replace(moved, stage=Stage.INSTALLED, reported_installed=True, detail="installed; waiting for its boot")
    stage = PROGRESS.get(status)
    if stage is None or target.stage is Stage.INSTALLED:
        return moved
    return replace(moved, stage=stage, detail="")


def on_boot(target: Target, version: str | None, reason: str | None, campaign_version: str,
            at: datetime) -> Target | None:  # fmt: skip
    """A BootNotification of the target's charger, reporting ``version`` (rule 4). Only a 2.0.1 boot with
    reason FirmwareUpdate proves a rollback; any other boot into the old version once installing had begun
    (a 1.6 charger gives no reason, a reconnect may boot again) is noted, and the deadline decides."""
    if target.stage not in IN_FLIGHT:
        return None
    if version == campaign_version:
        if target.reported_installed:
            return replace(target, stage=Stage.SUCCEEDED, booted_new=True, detail="installed and booted", updated_at=at)
        return replace(target, stage=Stage.INSTALLED, booted_new=True, detail="booted; waiting for Installed",
                       updated_at=at)  # fmt: skip
    if target.stage not in INSTALL_BEGUN:
        return None
    old = version or "an unknown version"
    if reason == "FirmwareUpdate":
        return replace(target, stage=Stage.FAILED, updated_at=at,
                       detail=f"rebooted into {old}, not {campaign_version}: rolled back")  # fmt: skip
    return replace(
        target,
        updated_at=at,
        detail=f"booted {old} after installing began (rolled back?); waiting for {campaign_version} until the deadline",
    )


def on_answer(target: Target, status: str | None, error: str | None, at: datetime) -> Target:
    """The charger answered UpdateFirmware: ``status`` (2.0.1; None for 1.6), or a CallError ``error``."""
    if error is not None:
        return replace(target, stage=Stage.FAILED, detail=f"UpdateFirmware answered CallError {error}", updated_at=at)
    if status not in TAKEN:
        return replace(target, stage=Stage.FAILED, detail=f"UpdateFirmware answered {status}", updated_at=at)
    return target


def on_unsent(target: Target, why: str, at: datetime) -> Target:
    """Rule 5: the send did not reach the charger."""
    if target.attempts >= SEND_ATTEMPTS:
        return replace(target, stage=Stage.FAILED, detail=f"not reached after {target.attempts} sends: {why}",
                       updated_at=at)  # fmt: skip
    return replace(target, stage=Stage.WAITING, not_before=at + RESEND_AFTER, detail=f"not reached: {why}",
                   updated_at=at)  # fmt: skip


def failures_allowed(campaign: Campaign, targets: list[Target]) -> int:
    begun = sum(1 for t in targets if t.group <= campaign.group)
    return campaign.max_failures.of(begun) + campaign.forgiven


def step(campaign: Campaign, targets: list[Target], seen: dict[str, Observation], now: datetime) -> Step:
    """One turn of the campaign at ``now``: deadlines, the failure threshold, the next group, what to send.
    ``seen`` holds the waiting chargers of the current group the service looked at."""
    changed: dict[str, Target] = {}
    notes: list[tuple[str | None, str]] = []
    timeout = timedelta(seconds=campaign.install_timeout_s)
    for t in targets:
        if t.stage in IN_FLIGHT and t.sent_at is not None and now - t.sent_at > timeout:
            last = t.last_status or "nothing"
            detail = f"no Installed and boot into {campaign.version} in {campaign.install_timeout_s} s (last: {last})"
            changed[t.charger_id] = replace(t, stage=Stage.FAILED, updated_at=now, detail=detail)
            notes.append((t.charger_id, changed[t.charger_id].detail))
    current = [changed.get(t.charger_id, t) for t in targets]
    failed = sum(1 for t in current if t.stage is Stage.FAILED)
    allowed = failures_allowed(campaign, current)
    if campaign.state is State.RUNNING and failed > allowed:
        reason = (
            f"halted: {failed} charger(s) failed, more than --max-failures {campaign.max_failures.text()} "
            f"allows ({allowed}) in the groups begun; see the chargers' details"
        )
        campaign = replace(campaign, state=State.HALTED, reason=reason)
        notes.append((None, reason))
    if campaign.state is State.ABORTED:
        for t in current:
            if t.stage is Stage.WAITING:
                changed[t.charger_id] = replace(t, stage=Stage.SKIPPED, detail="campaign aborted", updated_at=now)
        current = [changed.get(t.charger_id, t) for t in current]
    while campaign.state is State.RUNNING and all(t.stage in DONE for t in current if t.group == campaign.group):
        if campaign.group + 1 >= campaign.groups:
            ok = sum(1 for t in current if t.stage is Stage.SUCCEEDED)
            reason = f"completed: {ok} of {len(current)} updated to {campaign.version}" + (
                f", {failed} failed within --max-failures {campaign.max_failures.text()}" if failed else ""
            )
            campaign = replace(campaign, state=State.COMPLETED, reason=reason)
            notes.append((None, reason))
            break
        campaign = replace(campaign, group=campaign.group + 1)
        notes.append((None, f"group {campaign.group} of {campaign.groups - 1} begins"))
    send: list[Target] = []
    if campaign.state is State.RUNNING and is_open(campaign.window, now):
        slots = campaign.concurrency - sum(1 for t in current if t.stage in IN_FLIGHT)
        for t in current:
            if slots <= 0:
                break
            if t.group != campaign.group or t.stage is not Stage.WAITING or (t.not_before and t.not_before > now):
                continue
            look = seen.get(t.charger_id)
            if look is None or not look.connected or look.busy:
                continue
            attempt = t.attempts + 1
            started = replace(t, stage=Stage.SENT, attempts=attempt, sent_at=now, updated_at=now, not_before=None,
                              request_id=request_id(campaign.id, t.charger_id, attempt), detail="", last_status="",
                              reported_installed=False, booted_new=False)  # fmt: skip
            changed[t.charger_id] = started
            send.append(started)
            slots -= 1
    return Step(campaign=campaign, changed=list(changed.values()), send=send, notes=notes)


def waiting(campaign: Campaign, targets: list[Target], now: datetime) -> list[Target]:
    """The chargers :func:`step` might start now (the service observes only these)."""
    if campaign.state is not State.RUNNING:
        return []
    return [t for t in targets if t.group == campaign.group and t.stage is Stage.WAITING
            and (t.not_before is None or t.not_before <= now)]  # fmt: skip


def command(campaign: Campaign, state: State, targets: list[Target]) -> Campaign:
    """Pause, resume or abort (rule 7). Resuming a halted campaign forgives the failures counted so far."""
    if state is State.RUNNING and campaign.state is State.HALTED:
        failed = sum(1 for t in targets if t.stage is Stage.FAILED)
        forgiven = max(failed - campaign.max_failures.of(sum(1 for t in targets if t.group <= campaign.group)), 0)
        return replace(campaign, state=State.RUNNING, reason="resumed after a halt", forgiven=forgiven)
    reason = {State.RUNNING: "resumed", State.PAUSED: "paused", State.ABORTED: "aborted"}.get(state, campaign.reason)
    return replace(campaign, state=state, reason=reason)
