"""The campaign state machine (firmware/campaign.py), rule by rule, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.firmware.amounts import Amount
from chargewise.firmware.campaign import (
    Campaign,
    Observation,
    Stage,
    State,
    Target,
    command,
    groups,
    on_answer,
    on_boot,
    on_status,
    on_unsent,
    step,
)
from chargewise.firmware.window import parse_window

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
THREE = Amount(value=3)
IDLE = Observation(connected=True, busy=False)


def fleet(n: int, *, canary: int = 2, batch: Amount = THREE, **kw: object) -> tuple[Campaign, list[Target]]:
    ids = [f"CP{i:02d}" for i in range(n)]
    g = groups(ids, canary, batch)
    campaign = Campaign(
        id="c1", version="2.0", selector="", created_at=T0, canary=canary, batch=batch, groups=max(g) + 1, **kw
    )  # type: ignore[arg-type]
    return campaign, [
        Target(campaign_id="c1", charger_id=c, group=k, artifact_id="a") for c, k in zip(ids, g, strict=True)
    ]


def run(campaign: Campaign, targets: list[Target], now: datetime = T0,
        seen: dict[str, Observation] | None = None) -> tuple[Campaign, list[Target], list[str]]:  # fmt: skip
    seen = seen if seen is not None else {t.charger_id: IDLE for t in targets}
    s = step(campaign, targets, seen, now)
    by_id = {t.charger_id: t for t in s.changed}
    return s.campaign, [by_id.get(t.charger_id, t) for t in targets], [t.charger_id for t in s.send]


def succeed(targets: list[Target], ids: list[str]) -> list[Target]:
    out = []
    for t in targets:
        if t.charger_id in ids:
            t = on_status(t, "Installed", t.request_id, T0) or t
            t = on_boot(t, "2.0", None, "2.0", T0) or t
        out.append(t)
    return out


def test_groups_canary_then_batches() -> None:
    assert groups([str(i) for i in range(10)], 2, Amount(value=3)) == [0, 0, 1, 1, 1, 2, 2, 2, 3, 3]
    assert groups([str(i) for i in range(10)], 0, Amount(value=50, percent=True)) == [0] * 5 + [1] * 5
    assert groups([str(i) for i in range(4)], 1, Amount(value=0)) == [0, 1, 1, 1]


def test_canary_first_then_each_batch_after_the_last_finished() -> None:
    campaign, targets = fleet(8)
    campaign, targets, sent = run(campaign, targets)
    assert sent == ["CP00", "CP01"]
    campaign, targets, sent = run(campaign, targets)
    assert sent == []  # the canary is in flight: the first batch waits
    targets = succeed(targets, ["CP00", "CP01"])
    campaign, targets, sent = run(campaign, targets)
    assert campaign.group == 1 and sent == ["CP02", "CP03", "CP04"]
    targets = succeed(targets, sent)
    campaign, targets, sent = run(campaign, targets)
    assert campaign.group == 2 and sent == ["CP05", "CP06", "CP07"]
    targets = succeed(targets, sent)
    campaign, targets, _ = run(campaign, targets)
    assert campaign.state is State.COMPLETED and "8 of 8" in campaign.reason


def test_a_failed_canary_halts_and_nothing_else_starts() -> None:
    campaign, targets = fleet(8)
    campaign, targets, sent = run(campaign, targets)
    targets = [on_status(t, "InstallationFailed", t.request_id, T0) or t if t.charger_id == "CP00" else t
               for t in targets]  # fmt: skip
    targets = succeed(targets, ["CP01"])
    campaign, targets, sent = run(campaign, targets)
    assert campaign.state is State.HALTED and "1 charger(s) failed" in campaign.reason and sent == []
    assert [t.stage for t in targets[2:]] == [Stage.WAITING] * 6
    campaign, targets, sent = run(campaign, targets)
    assert sent == [] and campaign.state is State.HALTED
    resumed = command(campaign, State.RUNNING, targets)  # the operator looked and goes on: failures forgiven
    resumed, targets, _ = run(resumed, targets)
    assert resumed.state is State.RUNNING and resumed.group == 1


def test_failures_within_the_threshold_go_on() -> None:
    campaign, targets = fleet(6, canary=2, max_failures=Amount(value=50, percent=True))
    campaign, targets, _ = run(campaign, targets)
    targets = [on_status(t, "DownloadFailed", None, T0) or t if t.charger_id == "CP00" else t for t in targets]
    targets = succeed(targets, ["CP01"])
    campaign, targets, _ = run(campaign, targets)
    assert campaign.state is State.RUNNING and campaign.group == 1


def test_busy_offline_and_concurrency_and_window() -> None:
    campaign, targets = fleet(6, canary=6, concurrency=2)
    seen = {t.charger_id: IDLE for t in targets}
    seen["CP00"] = Observation(connected=True, busy=True)
    seen["CP01"] = Observation(connected=False, busy=False)
    _, _, sent = run(campaign, targets, seen=seen)
    assert sent == ["CP02", "CP03"]  # charging and offline chargers wait; two at once
    night = replace(campaign, window=parse_window("01:00-05:00", "Europe/Berlin"))
    assert run(night, targets, T0)[2]  # 03:00 in Berlin: open
    assert run(night, targets, T0 + timedelta(hours=4))[2] == []  # 07:00: closed
    across = replace(campaign, window=parse_window("22:00-04:00"))
    assert run(across, targets, T0.replace(hour=23))[2] and run(across, targets, T0.replace(hour=12))[2] == []


def test_success_needs_installed_and_the_new_version_at_boot() -> None:
    t = Target(campaign_id="c1", charger_id="A", group=0, artifact_id="a", stage=Stage.SENT, request_id=7)
    assert on_status(t, "Downloading", 8, T0) is None  # another request's status: stale
    t = on_status(t, "Installing", 7, T0) or t
    booted = on_boot(t, "2.0", None, "2.0", T0)
    assert booted is not None and booted.stage is Stage.INSTALLED and booted.booted_new
    done = on_status(booted, "Installed", 7, T0)
    assert done is not None and done.stage is Stage.SUCCEEDED
    rolled = on_boot(t, "1.0", "FirmwareUpdate", "2.0", T0)
    assert rolled is not None and rolled.stage is Stage.FAILED and "rolled back" in rolled.detail
    maybe = on_boot(t, "1.0", None, "2.0", T0)  # 1.6 (no reason), or a reconnect: the deadline decides
    assert maybe is not None and maybe.stage is Stage.INSTALLING and "rolled back?" in maybe.detail
    early = replace(t, stage=Stage.DOWNLOADING)
    assert on_boot(early, "1.0", "FirmwareUpdate", "2.0", T0) is None  # before installing began: no failure


def test_deadline_refusal_and_unreached_sends() -> None:
    campaign, targets = fleet(1, canary=1, install_timeout_s=600)
    campaign, targets, sent = run(campaign, targets)
    assert sent == ["CP00"]
    campaign, targets, _ = run(campaign, targets, T0 + timedelta(seconds=601))
    assert targets[0].stage is Stage.FAILED and "in 600 s" in targets[0].detail
    t = replace(targets[0], stage=Stage.SENT)
    assert on_answer(t, "Rejected", None, T0).stage is Stage.FAILED
    assert on_answer(t, None, None, T0).stage is Stage.SENT
    assert on_answer(t, None, "NotImplemented", T0).stage is Stage.FAILED
    retry = on_unsent(replace(t, attempts=1), "offline", T0)
    assert retry.stage is Stage.WAITING and retry.not_before is not None and retry.not_before > T0
    assert on_unsent(replace(t, attempts=5), "offline", T0).stage is Stage.FAILED


@pytest.mark.parametrize("state", [State.PAUSED, State.ABORTED])
def test_pause_and_abort_start_nothing(state: State) -> None:
    campaign, targets = fleet(3, canary=3)
    stopped = command(campaign, state, targets)
    stopped, after, sent = run(stopped, targets)
    assert sent == []
    expected = Stage.SKIPPED if state is State.ABORTED else Stage.WAITING
    assert {t.stage for t in after} == {expected}
