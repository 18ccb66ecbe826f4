"""The message trace's bounds (per charger, in all, per frame), its redaction and its live followers."""

from __future__ import annotations

import itertools

from chargewise.services.frame_trace import IN, OUT, FrameTrace


def trace(**bounds: int) -> FrameTrace:
    ticks = itertools.count(1_800_000_000)
    return FrameTrace(now=lambda: float(next(ticks)), **bounds)


def test_each_charger_keeps_its_last_frames_both_directions_oldest_first() -> None:
    t = trace(per_charger=3, total=100)
    for i in range(5):
        t.record("A", IN if i % 2 == 0 else OUT, f'[2,"{i}","Heartbeat",{{}}]'.encode())
    frames = [f.as_json() for f in t.frames("A")]
    assert [f["frame"] for f in frames] == [f'[2,"{i}","Heartbeat",{{}}]' for i in (2, 3, 4)]
    assert [f["direction"] for f in frames] == ["in", "out", "in"]
    assert frames[0]["at"].endswith("Z") and len(t) == 3
    assert [f.as_json()["frame"] for f in t.frames("A", 1)] == ['[2,"4","Heartbeat",{}]']


def test_past_the_total_the_charger_heard_from_least_recently_goes_first() -> None:
    t = trace(per_charger=2, total=4)
    for charger in ("A", "B", "A", "B", "C"):
        t.record(charger, IN, b"[2,\"1\",\"Heartbeat\",{}]")
    assert len(t) <= 4 and t.frames("A") == [] and len(t.frames("B")) == 2 and len(t.frames("C")) == 1


def test_long_frames_are_cut_and_credentials_redacted_before_they_are_kept() -> None:
    t = trace(max_frame=64)
    t.record("A", IN, b'[2,"1","DataTransfer",{"vendorId":"x","data":"' + b"y" * 500 + b'"}]')
    assert t.frames("A")[0].as_json()["frame"].endswith("bytes, cut]")
    t.record("A", OUT, b'[2,"2","ChangeConfiguration",{"key":"AuthorizationKey","value":"topsecret1234"}]')
    kept = t.frames("A")[-1]
    assert b"topsecret1234" not in kept.data and t.redacted == 1


async def test_a_follower_gets_each_new_frame_of_its_charger_only() -> None:
    t = trace()
    follower = t.follow("A")
    t.record("B", IN, b"[2,\"1\",\"Heartbeat\",{}]")
    t.record("A", OUT, b"[3,\"1\",{}]")
    got = await follower.next(1.0)
    assert got is not None and got.direction == OUT and await follower.next(0.01) is None
    t.unfollow(follower)
    t.record("A", IN, b"[2,\"2\",\"Heartbeat\",{}]")
    assert await follower.next(0.01) is None
