"""A bounded fuzz run against a real server: every readable call gets exactly one reply, none of them an
InternalError, a refused frame stores nothing, and a bystander charger is served quickly all along.
``make fuzz`` runs the same with many more frames (``python -m tests.fuzz --help``)."""

from __future__ import annotations

import json
from collections import Counter

import aiohttp

from tests.conftest import RunningServer
from tests.fuzz.frames import SEEDS, generate
from tests.fuzz.run import Rows, connect, run

SEED = 10
FRAMES = 3000  # per version: a few seconds per database on a quiet machine


def test_the_generator_is_deterministic_and_varied() -> None:
    first = [f.text for f in generate("2.0.1", SEED, 300)]
    assert first == [f.text for f in generate("2.0.1", SEED, 300)]
    assert first != [f.text for f in generate("2.0.1", SEED + 1, 300)]
    kinds = Counter(f.kind for f in generate("1.6", SEED, FRAMES))
    assert {"valid", "unknown-id", "timestamp", "deep", "drop", "big-number", "non-finite", "wrong-type",
            "answer-to-nothing", "unreadable"} <= set(kinds)  # fmt: skip


async def test_fuzzed_frames_cost_their_sender_only(any_db_server: RunningServer) -> None:
    """On SQLite and PostgreSQL; the rows of each refused frame are compared on SQLite (the server's file)."""
    settings = any_db_server.app.settings
    db_path = settings.data_dir / "chargewise.db" if settings.db_url.startswith("sqlite") else None
    figures = await run(any_db_server.ocpp_url, seed=SEED, frames=FRAMES, db_path=db_path)
    print(figures.summary())

    assert figures.frames == 2 * FRAMES
    assert figures.internal_error_count() == 0, figures.examples()
    assert not figures.missing and not figures.strays and not figures.closed, figures.examples()
    assert not figures.stored, figures.examples()
    assert figures.replies["CallResult"] > FRAMES // 10, figures.replies  # the fuzz reaches the handlers too
    assert len(figures.bystander) > 20 and max(figures.bystander) < 1.0, figures.summary()
    await _every_transaction_reads_back(any_db_server)


async def _every_transaction_reads_back(server: RunningServer) -> None:
    """What the fuzz stored is readable: a non-finite value stored had made GET /transactions/{id} a 500."""
    async with aiohttp.ClientSession(server.http_url, headers=server.headers) as http:
        async with http.get("/api/v1/transactions") as listed:
            assert listed.status == 200
            body = await listed.json()
        # a list, or (once lists are paged) the first list in the page object
        found = body if isinstance(body, list) else next(v for v in body.values() if isinstance(v, list))
        assert found, "the fuzz started transactions"
        for tx in found:
            async with http.get(f"/api/v1/transactions/{tx['id']}") as one:
                assert one.status == 200, await one.text()


async def test_the_row_comparison_sees_what_a_frame_stores(server: RunningServer) -> None:
    """The "refused but stored" figure is only as good as this: an accepted frame's rows show."""
    rows = Rows(server.app.settings.data_dir / "chargewise.db")
    ws = await connect(server.ocpp_url, "ROWS", "1.6")
    try:
        before = rows.of("ROWS")
        start = SEEDS["1.6"]["StartTransaction"][0]
        await ws.send(json.dumps([2, "s1", "StartTransaction", start]))
        assert json.loads(await ws.recv())[0] == 3
        assert rows.of("ROWS") != before
    finally:
        await ws.close()
        rows.close()
