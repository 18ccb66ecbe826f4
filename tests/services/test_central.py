"""The central system's use cases over the in-memory store, with time under the test's control."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import (
    BootInfo,
    IdToken,
    MeterValue,
    OcppVersion,
    Registration,
    SampledValue,
    TokenStatus,
    Transaction,
)
from chargewise.domain.ports import ConnectionChange, NewTransaction
from chargewise.services.central import SUPERSEDED, CentralSystem, Policy
from chargewise.services.meter_writer import MeterWriter
from tests.domain.clock import T0, SteppingClock
from tests.services.conftest import MakeCentral

BOOT = BootInfo(vendor="Elektra", model="Wallbox-22", serial_number="EL-1", firmware_version="4.2.1")
REASON = "Orphaned: connector free, no stop received"


def new_tx(key: str = "1|TAG|1000|t0", *, charger_id: str = "CP-1", **changes: object) -> NewTransaction:
    fields: dict[str, object] = {
        "charger_id": charger_id, "evse_id": 1, "connector_id": 1, "id_tag": "TAG", "started_at": T0,
        "meter_start_wh": 1000.0, "dedupe_key": key,
    }  # fmt: skip
    fields.update(changes)
    return NewTransaction(**fields)  # type: ignore[arg-type]


def register(charger_id: str, evse_id: int, transaction_id: int, wh: float, at_minutes: float) -> MeterValue:
    return MeterValue(
        charger_id=charger_id, evse_id=evse_id, transaction_id=transaction_id,
        timestamp=T0 + timedelta(minutes=at_minutes), sampled=(SampledValue(ENERGY_REGISTER, wh, "Wh"),),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- boot
async def test_boot_answers_the_stored_registration_and_records_the_boot(
    central: CentralSystem, store: MemoryStore
) -> None:
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    await store.add_charger("CP-2", registration=Registration.PENDING)

    assert await central.boot("CP-1", OcppVersion.V16, BOOT) is Registration.ACCEPTED
    assert await central.boot("CP-2", OcppVersion.V201, BOOT) is Registration.PENDING

    stored = await store.get_charger("CP-2")
    assert stored is not None
    assert (stored.boot, stored.ocpp_version, stored.last_seen) == (BOOT, OcppVersion.V201, T0)


async def test_boot_of_a_rejected_charger_is_rejected(central: CentralSystem, store: MemoryStore) -> None:
    await store.add_charger("CP-1", registration=Registration.REJECTED)
    assert await central.boot("CP-1", OcppVersion.V16, BOOT) is Registration.REJECTED


async def test_boot_of_a_charger_unknown_to_the_store_is_rejected(central: CentralSystem) -> None:
    # e.g. an operator removed it (CLI, another process) while it was connected: answer Rejected, not an error
    assert await central.boot("GONE", OcppVersion.V16, BOOT) is Registration.REJECTED


# ---------------------------------------------------------------------------------------------- seen / connections
async def test_seen_writes_last_seen_at_most_once_a_minute(
    central: CentralSystem, store: MemoryStore, clock: SteppingClock
) -> None:
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)

    async def last_seen() -> object:
        charger = await store.get_charger("CP-1")
        assert charger is not None
        return charger.last_seen

    assert await central.seen("CP-1") == T0
    assert await last_seen() == T0
    clock.advance(30)
    assert await central.seen("CP-1") == T0 + timedelta(seconds=30)  # the caller always gets the true time
    clock.advance(29.9)
    await central.seen("CP-1")
    assert await last_seen() == T0  # not written within the minute
    written = clock.advance(0.1)  # exactly 60 s after the last write
    await central.seen("CP-1")
    assert await last_seen() == written
    clock.advance(59)
    await central.seen("CP-1")
    assert await last_seen() == written


async def test_seen_coalesces_per_charger(central: CentralSystem, store: MemoryStore, clock: SteppingClock) -> None:
    for charger_id in ("CP-1", "CP-2"):
        await store.add_charger(charger_id, registration=Registration.ACCEPTED)
    await central.seen("CP-1")
    clock.advance(10)
    await central.seen("CP-2")  # CP-1's recent write does not hold back CP-2's first one
    assert [c.last_seen for c in await store.list_chargers()] == [T0, T0 + timedelta(seconds=10)]


async def test_connect_and_disconnect_are_recorded_and_reset_the_touch_timer(
    central: CentralSystem, store: MemoryStore, clock: SteppingClock
) -> None:
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    await central.connected("CP-1")
    clock.advance(5)
    await central.seen("CP-1")  # connecting counted as a write of last_seen
    charger = await store.get_charger("CP-1")
    assert charger is not None
    assert (charger.connected, charger.last_seen, charger.offline_since) == (True, T0, None)

    gone = clock.advance(5)
    await central.disconnected("CP-1")
    charger = await store.get_charger("CP-1")
    assert charger is not None
    assert (charger.connected, charger.offline_since) == (False, gone)

    back = clock.advance(5)
    await central.seen("CP-1")  # after a disconnect the next message is written at once
    charger = await store.get_charger("CP-1")
    assert charger is not None
    assert charger.last_seen == back


async def test_chargers_that_connect_together_spread_their_last_seen_writes_over_the_minute(
    central: CentralSystem, store: MemoryStore, clock: SteppingClock
) -> None:
    ids = [f"CP-{i}" for i in range(1000)]
    for charger_id in ids:
        await store.add_charger(charger_id, registration=Registration.ACCEPTED)
        await central.connected(charger_id)  # all at T0, as after a server restart
    written = {}
    for second in range(1, 61):  # every charger speaks once a second
        clock.advance(1)
        for charger_id in ids:
            await central.seen(charger_id)
        written[second] = sum(c.last_seen is not None and c.last_seen > T0 for c in await store.list_chargers())
    # about a sixth of them write in the first 10 s, about half in the first 30 s: not all at once at 60 s
    assert 50 <= written[10] <= 300, written[10]
    assert 350 <= written[30] <= 650, written[30]
    assert written[60] == 1000  # and none is more than a minute stale
    assert all(written[s] <= written[s + 1] for s in range(1, 60))


class FailingConnectionsStore(MemoryStore):
    """The in-memory store whose next connection-state writes fail (``fail`` of them), as a lost database would."""

    def __init__(self, fail: int) -> None:
        super().__init__()
        self.fail = fail

    async def record_connections(self, changes: Sequence[ConnectionChange]) -> None:
        if self.fail:
            self.fail -= 1
            raise OSError("database is gone")
        await super().record_connections(changes)


async def test_note_seen_does_not_wait_for_its_write(
    central: CentralSystem, store: MemoryStore, clock: SteppingClock
) -> None:
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    central.note_seen("CP-1", T0)  # returns at once: nothing of it is awaited
    charger = await store.get_charger("CP-1")
    assert charger is not None and charger.last_seen is None  # the batch has not run yet
    await central.drain()
    charger = await store.get_charger("CP-1")
    assert charger is not None and charger.last_seen == T0
    central.note_seen("CP-1", T0 + timedelta(seconds=59))  # within the minute: no write at all
    await central.drain()
    charger = await store.get_charger("CP-1")
    assert charger is not None and charger.last_seen == T0


async def test_note_seen_retries_a_failed_write_with_the_next_message(
    clock: SteppingClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = FailingConnectionsStore(fail=1)
    central = central_over(store, clock)
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    central.note_seen("CP-1", T0)
    await central.drain()
    await asyncio.sleep(0)  # the done-callback runs
    assert "last_seen not recorded" in caplog.text
    later = T0 + timedelta(seconds=1)
    central.note_seen("CP-1", later)  # within the minute, but the last write failed: tried again
    await central.drain()
    charger = await store.get_charger("CP-1")
    assert charger is not None and charger.last_seen == later


# ---------------------------------------------------------------------------------------------- authorize
async def test_unknown_token_is_invalid(central: CentralSystem) -> None:
    auth = await central.authorize("NOBODY")
    assert (auth.status, auth.expires_at, auth.parent_id_tag) == (TokenStatus.INVALID, None, None)


async def test_unknown_token_is_accepted_when_charging_is_free(
    make_central: Callable[[Policy], CentralSystem],
) -> None:
    central = make_central(Policy(free_charging=True))
    assert (await central.authorize("ANYONE")).status is TokenStatus.ACCEPTED


async def test_known_tokens_answer_their_status_expiry_and_parent(central: CentralSystem) -> None:
    await central.add_token(IdToken(id_tag="FLEET-1", expires_at=T0 + timedelta(days=1), parent_id_tag="FLEET"))
    await central.add_token(IdToken(id_tag="LOST", status=TokenStatus.BLOCKED))

    fleet = await central.authorize("FLEET-1")
    assert (fleet.status, fleet.expires_at, fleet.parent_id_tag) == (
        TokenStatus.ACCEPTED, T0 + timedelta(days=1), "FLEET",
    )  # fmt: skip
    assert (await central.authorize("LOST")).status is TokenStatus.BLOCKED


async def test_token_expires_with_the_clock(central: CentralSystem, clock: SteppingClock) -> None:
    await central.add_token(IdToken(id_tag="DAY-PASS", expires_at=T0 + timedelta(hours=1)))
    assert (await central.authorize("DAY-PASS")).status is TokenStatus.ACCEPTED
    clock.advance(3600)
    expired = await central.authorize("DAY-PASS")
    assert (expired.status, expired.expires_at) == (TokenStatus.EXPIRED, T0 + timedelta(hours=1))


async def test_blocked_token_stays_blocked_under_free_charging(
    make_central: Callable[[Policy], CentralSystem],
) -> None:
    central = make_central(Policy(free_charging=True))
    await central.add_token(IdToken(id_tag="LOST", status=TokenStatus.BLOCKED))
    assert (await central.authorize("LOST")).status is TokenStatus.BLOCKED


# ---------------------------------------------------------------------------------------------- transactions
async def test_start_transaction_is_idempotent_on_its_dedupe_key(central: CentralSystem, store: MemoryStore) -> None:
    await central.add_token(IdToken(id_tag="TAG"))
    first, auth = await central.start_transaction(new_tx())
    again, _ = await central.start_transaction(new_tx())
    other, _ = await central.start_transaction(new_tx("1|TAG|1000|t1"))

    assert auth.status is TokenStatus.ACCEPTED
    assert again.id == first.id
    assert other.id != first.id
    assert [tx.id for tx in await store.list_transactions()] == [other.id, first.id]


async def test_start_transaction_records_a_refused_token(central: CentralSystem, store: MemoryStore) -> None:
    # the charger may already deliver energy: the transaction is kept, the answer tells it to stop
    tx, auth = await central.start_transaction(new_tx(id_tag="STRANGER"))
    assert auth.status is TokenStatus.INVALID
    stored = await store.get_transaction(tx.id)
    assert stored is not None
    assert (stored.id_tag, stored.active, stored.meter_start_wh) == ("STRANGER", True, 1000.0)


async def test_start_transaction_without_token_is_accepted(central: CentralSystem) -> None:
    _, auth = await central.start_transaction(new_tx(id_tag=None))
    assert auth.status is TokenStatus.ACCEPTED


async def test_stop_transaction_closes_it(central: CentralSystem) -> None:
    tx, _ = await central.start_transaction(new_tx())
    stopped = await central.transactions.stop("CP-1", tx.id, stopped_at=T0 + timedelta(hours=1),
                                              meter_stop_wh=4000.0, reason="EVDisconnected")  # fmt: skip
    assert stopped is not None
    assert (stopped.active, stopped.energy_wh, stopped.stop_reason) == (False, 3000.0, "EVDisconnected")


async def test_reap_closes_only_older_open_transactions_on_the_evse(
    central: CentralSystem, store: MemoryStore, clock: SteppingClock
) -> None:
    # set up through the store: a start through the central system would already close the older one (below)
    orphan, _ = await store.start_transaction(new_tx("a", evse_id=1))
    other_evse, _ = await store.start_transaction(new_tx("b", evse_id=2))
    newer, _ = await store.start_transaction(new_tx("c", evse_id=1, started_at=T0 + timedelta(minutes=10)))
    other_charger, _ = await store.start_transaction(new_tx("d", charger_id="CP-2", evse_id=1))
    done, _ = await store.start_transaction(new_tx("e", evse_id=1))
    await store.stop_transaction(done.id, stopped_at=T0, meter_stop_wh=1000.0, reason="Local")
    await central.record_meter_values(
        [register("CP-1", 1, orphan.id, 1800.0, 2), register("CP-1", 1, orphan.id, 2600.0, 4)]
    )
    reaped_at = clock.advance(3600)

    closed = await central.transactions.reap("CP-1", reason=REASON, started_before=T0 + timedelta(minutes=5), evse_id=1)

    assert [tx.id for tx in closed] == [orphan.id]
    reaped = await store.get_transaction(orphan.id)
    assert reaped is not None
    assert (reaped.stopped_at, reaped.meter_stop_wh, reaped.stop_reason, reaped.energy_wh) == (
        reaped_at, 2600.0, REASON, 1600.0,
    )  # fmt: skip
    still_open = {tx.id for tx in await store.list_transactions(active=True)}
    assert still_open == {other_evse.id, newer.id, other_charger.id}
    untouched = await store.get_transaction(done.id)
    assert untouched is not None
    assert untouched.stop_reason == "Local"


async def test_a_new_transaction_closes_an_older_one_left_open_on_its_evse(
    central: CentralSystem, store: MemoryStore, clock: SteppingClock
) -> None:
    lost, _ = await central.start_transaction(new_tx("a", evse_id=1))  # its stop never comes
    other_evse, _ = await central.start_transaction(new_tx("b", evse_id=2))
    await central.record_meter_values([register("CP-1", 1, lost.id, 2600.0, 4)])
    clock.advance(3600)
    closed_at = T0 + timedelta(minutes=50)  # when the newer one began (it reached us later, from a queue)
    newer, _ = await central.start_transaction(new_tx("c", evse_id=1, started_at=closed_at))
    again, _ = await central.start_transaction(new_tx("c", evse_id=1, started_at=closed_at))
    assert again.id == newer.id  # a retried start closes nothing more

    reaped = await store.get_transaction(lost.id)
    assert reaped is not None and reaped.reaped
    assert (reaped.stopped_at, reaped.meter_stop_wh, reaped.stop_reason) == (closed_at, 2600.0, SUPERSEDED)
    assert {tx.id for tx in await store.list_transactions(active=True)} == {other_evse.id, newer.id}


async def test_a_superseded_transaction_is_not_closed_in_the_future(
    central: CentralSystem, store: MemoryStore, clock: SteppingClock
) -> None:
    lost, _ = await central.start_transaction(new_tx("a"))
    now = clock.advance(3600)
    await central.start_transaction(new_tx("b", started_at=now + timedelta(hours=1)))  # the charger's clock is fast
    reaped = await store.get_transaction(lost.id)
    assert reaped is not None and reaped.stopped_at == now


async def test_transactions_of_a_charger_silent_too_long_are_closed_when_it_was_last_heard_from(
    make_central: MakeCentral, store: MemoryStore, clock: SteppingClock
) -> None:
    central = make_central(Policy(reap_offline_after=3600))
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    await central.connected("CP-1")
    lost, _ = await central.start_transaction(new_tx("a"))
    await central.record_meter_values([register("CP-1", 1, lost.id, 2600.0, 4)])
    went = clock.advance(600)
    await central.disconnected("CP-1")
    clock.advance(1800)
    assert await central.reap_offline() == []  # offline for 30 minutes: it may still come back
    clock.advance(3600)
    assert await central.reap_offline(connected={"CP-1"}) == []  # a live link here: spared
    [closed] = await central.reap_offline()
    assert (closed.id, closed.stopped_at, closed.meter_stop_wh, closed.reaped) == (lost.id, went, 2600.0, True)
    assert closed.stop_reason == "Orphaned: charger not heard from since 2024-05-01 12:10 UTC, no stop received"
    assert await central.reap_offline() == []  # closed once


async def test_a_silent_chargers_transaction_is_not_closed_before_it_began(
    make_central: MakeCentral, store: MemoryStore, clock: SteppingClock
) -> None:
    central = make_central(Policy(reap_offline_after=3600))
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    await central.connected("CP-1")  # last_seen T0; the server is killed later, so no disconnect is recorded
    began = T0 + timedelta(seconds=30)  # within the minute: its start did not move last_seen
    tx, _ = await central.start_transaction(new_tx("a", started_at=began))
    clock.advance(2 * 3600)
    [closed] = await central.reap_offline()
    assert (closed.id, closed.stopped_at) == (tx.id, began)


async def test_reap_offline_after_0_never_closes_anything(
    make_central: MakeCentral, store: MemoryStore, clock: SteppingClock
) -> None:
    central = make_central(Policy(reap_offline_after=0))
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    await central.start_transaction(new_tx("a"))
    await central.disconnected("CP-1")
    clock.advance(10 * 86_400)
    assert await central.reap_offline() == []


async def test_a_connected_flag_no_one_backs_is_cleared_after_twice_the_heartbeat_interval_and_a_minute(
    make_central: MakeCentral, store: MemoryStore, clock: SteppingClock
) -> None:
    central = make_central(Policy(heartbeat_interval=300, pending_retry_interval=60))
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    await central.connected("CP-1")  # last_seen T0; then the server is killed: no disconnect is recorded
    assert central.silent_after() == timedelta(seconds=660)
    clock.advance(660)
    assert await central.clear_silent_links() == []  # a live charger on another worker may be this quiet
    clock.advance(1)
    assert await central.clear_silent_links(connected={"CP-1"}) == []  # a live link here: spared
    assert await central.clear_silent_links() == ["CP-1"]
    charger = await store.get_charger("CP-1")
    assert charger is not None and (charger.connected, charger.offline_since) == (False, T0)
    await central.seen("CP-1")  # taken for gone by mistake: its next message flags it connected again
    charger = await store.get_charger("CP-1")
    assert charger is not None and (charger.connected, charger.offline_since) == (True, None)


async def test_reap_without_evse_closes_all_of_the_chargers_older_transactions(
    central: CentralSystem, store: MemoryStore
) -> None:
    one, _ = await central.start_transaction(new_tx("a", evse_id=1))
    two, _ = await central.start_transaction(new_tx("b", evse_id=2))
    closed = await central.transactions.reap("CP-1", reason="Reboot", started_before=T0 + timedelta(seconds=1))
    assert sorted(tx.id for tx in closed) == [one.id, two.id]
    assert all(tx.meter_stop_wh is None and tx.stop_reason == "Reboot" for tx in closed)  # no reading: unknown
    assert await store.active_transactions("CP-1") == []


async def test_reap_spares_a_transaction_started_at_the_cut_off(central: CentralSystem) -> None:
    await central.start_transaction(new_tx())
    assert await central.transactions.reap("CP-1", reason=REASON, started_before=T0, evse_id=1) == []


# ---------------------------------------------------------------------------------------------- owner cache
class ReadCountingStore(MemoryStore):
    """The real in-memory store, counting transaction reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get_transaction(self, transaction_id: int) -> Transaction | None:
        self.reads += 1
        return await super().get_transaction(transaction_id)


async def owner_of(central: CentralSystem, transaction_id: int) -> tuple[str, int] | None:
    """``(charger_id, evse_id)`` of a transaction, as ``Transactions.owner`` remembers it."""
    owner = await central.transactions.owner(transaction_id)
    return None if owner is None else (owner.charger_id, owner.evse_id)


def central_over(store: MemoryStore, clock: SteppingClock) -> CentralSystem:
    return CentralSystem(store=store, clock=clock, policy=Policy(), meter_writer=MeterWriter(store))


async def test_transaction_owner_is_remembered_from_the_start(clock: SteppingClock) -> None:
    store = ReadCountingStore()
    central = central_over(store, clock)
    tx, _ = await central.start_transaction(new_tx(evse_id=3))
    assert await owner_of(central, tx.id) == ("CP-1", 3)
    assert store.reads == 0


async def test_transaction_owner_reads_the_store_once_then_remembers(clock: SteppingClock) -> None:
    counting = ReadCountingStore()
    tx, _ = await counting.start_transaction(new_tx(evse_id=2))  # started by another process: not in the cache
    central = central_over(counting, clock)

    assert await owner_of(central, tx.id) == ("CP-1", 2)
    assert await owner_of(central, tx.id) == ("CP-1", 2)
    assert counting.reads == 1
    assert await owner_of(central, 999) is None
    assert await owner_of(central, 999) is None
    assert counting.reads == 3  # unknown ids are not cached: the transaction may appear later
