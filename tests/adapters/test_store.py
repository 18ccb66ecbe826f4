"""The ``Store`` contract, run against every backend (``store`` fixture), plus SQL-only durability checks."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, make_url, select, text
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table

from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.engine import alembic_config, create_engine, upgrade
from chargewise.adapters.sql.tables import UtcDateTime, metadata
from chargewise.domain.model import (
    BootInfo,
    ConnectorState,
    ConnectorStatus,
    IdToken,
    MeterValue,
    OcppVersion,
    Registration,
    SampledValue,
    TokenStatus,
)
from chargewise.domain.ports import ConnectionChange, NewTransaction, Store, TransactionFacts

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
REGISTER = "Energy.Active.Import.Register"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def new_tx(key: str = "1|TAG|1000|t0", charger_id: str = "CP1", **changes: object) -> NewTransaction:
    fields: dict[str, object] = {
        "charger_id": charger_id,
        "evse_id": 1,
        "connector_id": 1,
        "id_tag": "TAG",
        "started_at": T0,
        "meter_start_wh": 1000.0,
        "dedupe_key": key,
    }
    fields.update(changes)
    return NewTransaction(**fields)  # type: ignore[arg-type]


def sample(tx: int | None, minutes: float, value: float, **changes: object) -> MeterValue:
    """A meter value of one sampled value (the energy register in Wh unless ``changes`` say otherwise)."""
    fields: dict[str, object] = {"measurand": REGISTER, "value": value, "unit": "Wh"} | changes
    return MeterValue(
        charger_id="CP1", evse_id=1, transaction_id=tx, timestamp=at(minutes),
        sampled=(SampledValue(**fields),),  # type: ignore[arg-type]
    )  # fmt: skip


def numbers(values: list[MeterValue]) -> list[float]:
    return [s.value for v in values for s in v.sampled]


# --- chargers -----------------------------------------------------------------------------------------------


async def test_add_get_list_remove_charger(store: Store) -> None:
    added = await store.add_charger("CP2", registration=Registration.ACCEPTED, password_hash="h2")
    await store.add_charger("CP1", registration=Registration.PENDING)

    assert added.id == "CP2" and added.registration is Registration.ACCEPTED and added.password_hash == "h2"
    got = await store.get_charger("CP2")
    assert got is not None
    assert (got.registration, got.password_hash, got.boot, got.connected) == (Registration.ACCEPTED, "h2", None, False)
    assert (got.ocpp_version, got.last_seen, got.offline_since) == (None, None, None)
    assert (got.quirks, got.connectors) == ((), [])
    assert [c.id for c in await store.list_chargers()] == ["CP1", "CP2"]

    await store.remove_charger("CP2")
    await store.remove_charger("CP2")  # idempotent
    assert await store.get_charger("CP2") is None
    assert [c.id for c in await store.list_chargers()] == ["CP1"]


async def test_a_charger_keeps_its_security_profile(store: Store) -> None:
    added = await store.add_charger("CP3", registration=Registration.ACCEPTED, security_profile=3)
    await store.add_charger("CP0", registration=Registration.ACCEPTED)
    assert added.security_profile == 3
    assert [(c.id, c.security_profile) for c in await store.list_chargers()] == [("CP0", None), ("CP3", 3)]


async def test_list_chargers_sorts_by_code_point(store: Store) -> None:
    for charger_id in ("cp-b", "CP-a", "CP-B"):
        await store.add_charger(charger_id, registration=Registration.ACCEPTED)
    assert [c.id for c in await store.list_chargers()] == ["CP-B", "CP-a", "cp-b"]


async def test_adding_an_existing_charger_raises_key_error(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED, password_hash="first")
    with pytest.raises(KeyError):
        await store.add_charger("CP1", registration=Registration.REJECTED)
    got = await store.get_charger("CP1")
    assert got is not None and (got.registration, got.password_hash) == (Registration.ACCEPTED, "first")


async def test_registration_and_password_updates(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.PENDING)
    await store.set_registration("CP1", Registration.ACCEPTED)
    await store.set_password_hash("CP1", "pbkdf2$abc")
    got = await store.get_charger("CP1")
    assert got is not None and (got.registration, got.password_hash) == (Registration.ACCEPTED, "pbkdf2$abc")

    await store.set_password_hash("CP1", None)
    got = await store.get_charger("CP1")
    assert got is not None and got.password_hash is None
    with pytest.raises(KeyError):
        await store.set_registration("nope", Registration.ACCEPTED)
    with pytest.raises(KeyError):
        await store.set_password_hash("nope", "x")


async def test_quirks_are_stored_in_order(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    await store.set_quirks("CP1", ("no-seq-no", "kwh-register"))
    got = await store.get_charger("CP1")
    assert got is not None and got.quirks == ("no-seq-no", "kwh-register")
    [listed] = await store.list_chargers()
    assert listed.quirks == ("no-seq-no", "kwh-register")

    await store.set_quirks("CP1", ())
    got = await store.get_charger("CP1")
    assert got is not None and got.quirks == ()
    with pytest.raises(KeyError):
        await store.set_quirks("nope", ("x",))


async def test_directory_revision_moves_with_directory_changes_only(store: Store) -> None:
    seen = [await store.directory_revision()]

    async def changed() -> bool:
        seen.append(await store.directory_revision())
        return seen[-1] != seen[-2]

    await store.add_charger("CP1", registration=Registration.PENDING)
    assert await changed()
    await store.set_registration("CP1", Registration.ACCEPTED)
    assert await changed()
    await store.set_password_hash("CP1", "h")
    assert await changed()
    await store.set_quirks("CP1", ("q",))
    assert await changed()

    await store.record_boot("CP1", OcppVersion.V16, BootInfo(vendor="Acme", model="W11"), at(1))
    await store.record_connection("CP1", connected=True, at=at(1))
    await store.touch("CP1", at(2))
    await store.set_connector_status("CP1", 1, 1, ConnectorStatus.AVAILABLE, None, at(2))
    await store.remove_charger("nope")
    with pytest.raises(KeyError):
        await store.add_charger("CP1", registration=Registration.ACCEPTED)
    with pytest.raises(KeyError):
        await store.set_quirks("nope", ())
    assert not await changed()

    await store.remove_charger("CP1")
    assert await changed()


async def test_boot_is_recorded(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    boot = BootInfo(vendor="Acme", model="W11", serial_number="S-1", firmware_version="1.2.3", reason="PowerUp")
    await store.record_boot("CP1", OcppVersion.V201, boot, at(1))
    got = await store.get_charger("CP1")
    assert got is not None
    assert (got.ocpp_version, got.boot, got.last_seen) == (OcppVersion.V201, boot, at(1))

    minimal = BootInfo(vendor="Acme", model="W11")
    await store.record_boot("CP1", OcppVersion.V16, minimal, at(2))
    got = await store.get_charger("CP1")
    assert got is not None and (got.ocpp_version, got.boot) == (OcppVersion.V16, minimal)
    with pytest.raises(KeyError):
        await store.record_boot("nope", OcppVersion.V16, minimal, at(2))


async def test_connection_transitions(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    await store.record_connection("CP1", connected=True, at=at(1))
    got = await store.get_charger("CP1")
    assert got is not None and (got.connected, got.last_seen, got.offline_since) == (True, at(1), None)

    await store.record_connection("CP1", connected=False, at=at(5))
    got = await store.get_charger("CP1")
    assert got is not None and (got.connected, got.last_seen, got.offline_since) == (False, at(1), at(5))

    await store.record_connection("CP1", connected=True, at=at(9))
    got = await store.get_charger("CP1")
    assert got is not None and (got.connected, got.last_seen, got.offline_since) == (True, at(9), None)
    with pytest.raises(KeyError):
        await store.record_connection("nope", connected=True, at=at(9))


async def test_open_while_silent_finds_the_open_transactions_of_chargers_not_heard_from(store: Store) -> None:
    # GONE disconnected at 0; STALE still reads connected (a killed server never recorded the disconnect) but
    # was last seen at 10; RECENT disconnected at 120; SPEAKING was seen at 100; NEVER has no times at all
    for charger_id in ("GONE", "STALE", "RECENT", "SPEAKING", "NEVER"):
        await store.add_charger(charger_id, registration=Registration.ACCEPTED)
    for charger_id, seen_at in (("GONE", -10), ("STALE", 10), ("RECENT", -10), ("SPEAKING", 100)):
        await store.record_connection(charger_id, connected=True, at=at(seen_at))
    await store.record_connection("GONE", connected=False, at=at(0))
    await store.record_connection("RECENT", connected=False, at=at(120))
    gone, _ = await store.start_transaction(new_tx("a", charger_id="GONE"))
    done, _ = await store.start_transaction(new_tx("b", charger_id="GONE", evse_id=2))
    await store.stop_transaction(done.id, stopped_at=at(-1), meter_stop_wh=1000.0, reason="Local")
    stale, _ = await store.start_transaction(new_tx("c", charger_id="STALE"))
    for key, charger_id in (("d", "RECENT"), ("e", "SPEAKING"), ("f", "NEVER")):
        await store.start_transaction(new_tx(key, charger_id=charger_id))
    found = await store.open_while_silent(at(60))
    assert [(tx.id, since) for tx, since in found] == [(gone.id, at(0)), (stale.id, at(10))]


async def test_clear_silent_links_flags_offline_the_connected_chargers_not_heard_from(store: Store) -> None:
    # STALE and SPARED still read connected, last seen at 10 (a killed server never recorded their disconnect);
    # SPEAKING was seen at 100; GONE is offline since 0 already; UNSEEN was admitted as it connected at 0
    for charger_id in ("STALE", "SPARED", "SPEAKING", "GONE"):
        await store.add_charger(charger_id, registration=Registration.ACCEPTED)
    for charger_id, seen_at in (("STALE", 10), ("SPARED", 10), ("SPEAKING", 100), ("GONE", -10)):
        await store.record_connection(charger_id, connected=True, at=at(seen_at))
    await store.record_connection("GONE", connected=False, at=at(0))
    await store.record_connections(
        [ConnectionChange(charger_id="UNSEEN", connected=False, at=at(0), register_as=Registration.PENDING)]
    )
    await store.record_connections([ConnectionChange(charger_id="UNSEEN", connected=True, at=at(0))])

    assert await store.clear_silent_links(at(60), spare={"SPARED"}) == ["STALE", "UNSEEN"]
    states = {c.id: (c.connected, c.last_seen, c.offline_since) for c in await store.list_chargers()}
    assert states == {
        "STALE": (False, at(10), at(10)),  # offline as of when it was last heard from
        "SPARED": (True, at(10), None),
        "SPEAKING": (True, at(100), None),
        "GONE": (False, at(-10), at(0)),
        "UNSEEN": (False, at(0), at(0)),
    }
    assert await store.clear_silent_links(at(60)) == ["SPARED"]  # once; and without a live link it goes too


async def test_touch_updates_last_seen_and_ignores_unknown(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    await store.touch("CP1", at(3))
    await store.touch("nope", at(3))
    got = await store.get_charger("CP1")
    assert got is not None and got.last_seen == at(3)
    assert await store.get_charger("nope") is None


async def test_connector_status_is_sorted_and_stale_updates_ignored(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    await store.set_connector_status("CP1", 2, 1, ConnectorStatus.AVAILABLE, None, at(1))
    await store.set_connector_status("CP1", 1, 2, ConnectorStatus.FAULTED, "GroundFailure", at(1))
    await store.set_connector_status("CP1", 1, 1, ConnectorStatus.AVAILABLE, None, at(1))
    await store.set_connector_status("CP1", 1, 1, ConnectorStatus.CHARGING, None, at(5))
    await store.set_connector_status("CP1", 1, 1, ConnectorStatus.PREPARING, None, at(3))  # stale: ignored

    got = await store.get_charger("CP1")
    assert got is not None
    assert got.connectors == [
        ConnectorState(evse_id=1, connector_id=1, status=ConnectorStatus.CHARGING, error_code=None, updated_at=at(5)),
        ConnectorState(
            evse_id=1, connector_id=2, status=ConnectorStatus.FAULTED, error_code="GroundFailure", updated_at=at(1)
        ),
        ConnectorState(evse_id=2, connector_id=1, status=ConnectorStatus.AVAILABLE, error_code=None, updated_at=at(1)),
    ]
    [listed] = await store.list_chargers()
    assert listed.connectors == got.connectors

    await store.set_connector_status("CP1", 1, 1, ConnectorStatus.FINISHING, None, at(5))  # same time: applied
    got = await store.get_charger("CP1")
    assert got is not None and got.connectors[0].status is ConnectorStatus.FINISHING
    with pytest.raises(KeyError):
        await store.set_connector_status("nope", 1, 1, ConnectorStatus.AVAILABLE, None, at(1))


async def test_removing_a_charger_drops_its_connectors_but_keeps_its_transactions(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    await store.set_connector_status("CP1", 1, 1, ConnectorStatus.CHARGING, None, at(1))
    tx, _ = await store.start_transaction(new_tx())
    await store.remove_charger("CP1")

    again = await store.add_charger("CP1", registration=Registration.PENDING)
    got = await store.get_charger("CP1")
    assert got is not None and got.connectors == [] and again.connectors == []
    assert await store.get_transaction(tx.id) == tx


# --- transactions -------------------------------------------------------------------------------------------


async def test_start_transaction_is_idempotent_per_dedupe_key(store: Store) -> None:
    first, created = await store.start_transaction(new_tx(remote_id="R-1"))
    assert created is True
    assert (first.charger_id, first.evse_id, first.connector_id, first.id_tag) == ("CP1", 1, 1, "TAG")
    assert (first.started_at, first.meter_start_wh, first.remote_id) == (T0, 1000.0, "R-1")
    assert (first.active, first.stopped_at, first.last_meter_wh, first.last_seq_no) == (True, None, None, None)

    retried, created = await store.start_transaction(new_tx(started_at=at(1), meter_start_wh=5.0))
    assert created is False and retried == first

    other, created = await store.start_transaction(new_tx("1|TAG|1000|t1"))
    assert created is True and other.id != first.id
    elsewhere, created = await store.start_transaction(new_tx(charger_id="CP2"))  # same key, other charger
    assert created is True and elsewhere.id not in (first.id, other.id)
    assert await store.get_transaction(first.id) == first


async def test_concurrent_duplicate_starts_create_one_transaction(store: Store) -> None:
    results = await asyncio.gather(*(store.start_transaction(new_tx()) for _ in range(5)))
    assert sorted(created for _, created in results) == [False] * 4 + [True]
    assert len({tx.id for tx, _ in results}) == 1
    assert len(await store.list_transactions()) == 1


async def test_stop_transaction_is_idempotent(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx())
    stopped = await store.stop_transaction(tx.id, stopped_at=at(30), meter_stop_wh=7000.0, reason="Local")
    assert stopped is not None
    assert (stopped.active, stopped.stopped_at, stopped.meter_stop_wh, stopped.stop_reason) == (
        False,
        at(30),
        7000.0,
        "Local",
    )
    assert stopped.energy_wh == 6000.0

    again = await store.stop_transaction(tx.id, stopped_at=at(40), meter_stop_wh=9000.0, reason="Remote")
    assert again == stopped
    assert await store.get_transaction(tx.id) == stopped
    assert await store.stop_transaction(tx.id + 1000, stopped_at=at(40), meter_stop_wh=None, reason=None) is None


async def test_a_stop_stores_its_meter_values_once(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx())
    end = [sample(tx.id, 30, 7000.0, context="Transaction.End")]
    stopped = await store.stop_transaction(
        tx.id, stopped_at=at(30), meter_stop_wh=7000.0, reason="Local", meter_values=end
    )
    again = await store.stop_transaction(
        tx.id, stopped_at=at(30), meter_stop_wh=7000.0, reason="Local", meter_values=end
    )
    assert again == stopped and stopped is not None and stopped.last_meter_wh == 7000.0
    assert numbers(await store.meter_values(tx.id)) == [7000.0]  # the retry stored none of them again
    await store.stop_transaction(tx.id + 1000, stopped_at=at(30), meter_stop_wh=None, reason=None, meter_values=end)
    assert numbers(await store.meter_values(tx.id + 1000)) == []  # no transaction stopped: nothing stored


async def test_the_chargers_own_stop_replaces_the_reapers_once(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx())
    await store.add_meter_values([sample(tx.id, 10, 3000.0)])
    reaped = await store.stop_transaction(
        tx.id, stopped_at=at(60), meter_stop_wh=3000.0, reason="connector free", provisional=True
    )
    assert reaped is not None and reaped.reaped and reaped.provisional and reaped.energy_wh == 2000.0
    again = await store.stop_transaction(tx.id, stopped_at=at(61), meter_stop_wh=3000.0, reason="x", provisional=True)
    assert again == reaped  # one provisional stop does not replace another

    end = [sample(tx.id, 30, 7000.0, context="Transaction.End")]
    real = await store.stop_transaction(
        tx.id, stopped_at=at(30), meter_stop_wh=7000.0, reason="Local", meter_values=end
    )
    assert real is not None and not real.reaped and not real.provisional
    assert (real.stopped_at, real.meter_stop_wh, real.stop_reason, real.energy_wh) == (at(30), 7000.0, "Local", 6000.0)
    later = await store.stop_transaction(
        tx.id, stopped_at=at(90), meter_stop_wh=9000.0, reason="Remote", meter_values=end
    )
    assert later == real  # a stop after the charger's own changes nothing
    assert numbers(await store.meter_values(tx.id)) == [3000.0, 7000.0]


async def test_a_reason_text_alone_makes_no_stop_provisional(store: Store) -> None:
    # before 0004 the "Orphaned: " prefix was the mark; a charger's own reason text can never be it now
    tx, _ = await store.start_transaction(new_tx())
    first = await store.stop_transaction(tx.id, stopped_at=at(30), meter_stop_wh=2000.0, reason="Orphaned: mine")
    assert first is not None and not first.provisional
    later = await store.stop_transaction(tx.id, stopped_at=at(40), meter_stop_wh=2500.0, reason="Local")
    assert later == first


async def test_amend_fills_in_only_what_is_unknown(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx(evse_id=0, connector_id=1, meter_start_wh=None, id_tag=None))
    assert (tx.provisional, tx.ev_connected, tx.remote_start_id) == (False, False, None)
    facts = TransactionFacts(evse_id=2, connector_id=3, meter_start_wh=1000.0, id_tag="REMOTE", remote_start_id=7,
                             ev_connected=True)  # fmt: skip
    amended = await store.amend_transaction(tx.id, facts)
    expected = (2, 3, 1000.0, "REMOTE", 7, True)
    assert amended is not None
    assert (amended.evse_id, amended.connector_id, amended.meter_start_wh, amended.id_tag, amended.remote_start_id,
            amended.ev_connected) == expected  # fmt: skip
    other = TransactionFacts(evse_id=5, connector_id=1, meter_start_wh=9.0, id_tag="LATE", remote_start_id=8)
    again = await store.amend_transaction(tx.id, other)
    assert again is not None and again == await store.get_transaction(tx.id)
    assert (again.evse_id, again.connector_id, again.meter_start_wh, again.id_tag, again.remote_start_id,
            again.ev_connected) == expected  # fmt: skip
    assert await store.amend_transaction(tx.id, TransactionFacts()) == again
    assert await store.amend_transaction(tx.id + 1000, facts) is None


async def test_amend_takes_a_token_for_an_empty_one(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx(id_tag=""))
    amended = await store.amend_transaction(tx.id, TransactionFacts(id_tag="REMOTE"))
    assert amended is not None and amended.id_tag == "REMOTE"


async def test_energy_comes_from_the_highest_register_reading(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx(meter_start_wh=1000))
    await store.add_meter_values(
        [
            sample(tx.id, 1, 2000.0),
            sample(tx.id, 3, 5500.0),
            sample(tx.id, 2, 4000.0),  # out of order, lower: does not win
            sample(tx.id, 3, 9999.0, phase="L1"),  # per-phase reading: not the transaction's register
            sample(tx.id, 3, 11000.0, measurand="Power.Active.Import", unit="W"),
            sample(None, 3, 80000.0),  # outside any transaction
        ]
    )
    got = await store.get_transaction(tx.id)
    assert got is not None and (got.last_meter_wh, got.energy_wh) == (5500.0, 4500.0)

    await store.add_meter_values([sample(tx.id, 4, 5000.0)])  # a lower register never moves it back
    await store.add_meter_values([])
    got = await store.get_transaction(tx.id)
    assert got is not None and got.last_meter_wh == 5500.0


async def test_samples_for_an_unknown_transaction_do_not_fail_the_batch(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx())
    await store.add_meter_values([sample(tx.id + 1000, 1, 3000.0), sample(tx.id, 1, 2500.0)])
    got = await store.get_transaction(tx.id)
    assert got is not None and got.last_meter_wh == 2500.0
    assert numbers(await store.meter_values(tx.id + 1000)) == [3000.0]


async def test_meter_values_read_back_ordered_by_timestamp(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx())
    other, _ = await store.start_transaction(new_tx("other"))
    await store.add_meter_values([sample(tx.id, 5, 3.0), sample(tx.id, 1, 1.0), sample(other.id, 0, 9.0)])
    three_phase = MeterValue(
        charger_id="CP1", evse_id=1, transaction_id=tx.id, timestamp=at(3),
        sampled=(
            SampledValue("Current.Import", 2.0, "A", "L2", "Sample.Periodic"),
            SampledValue("Current.Import", 2.25, "A", "L3", "Sample.Periodic", "Inlet"),
            SampledValue(REGISTER, 2.5),
        ),
    )  # fmt: skip
    await store.add_meter_values([three_phase, sample(tx.id, 3, 2.75)])  # same timestamp: insertion order wins
    got = await store.meter_values(tx.id)
    assert [(v.timestamp, [s.value for s in v.sampled]) for v in got] == [
        (at(1), [1.0]), (at(3), [2.0, 2.25, 2.5]), (at(3), [2.75]), (at(5), [3.0]),
    ]  # fmt: skip
    assert got[1] == three_phase
    assert await store.meter_values(tx.id + 1000) == []


async def test_accept_event_rejects_a_seen_seq_no(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx())
    assert await store.has_event(tx.id, 0) is False
    assert await store.accept_event(tx.id, 0) is True
    assert await store.has_event(tx.id, 0) is True
    assert await store.accept_event(tx.id, 2) is True
    assert await store.accept_event(tx.id, 0) is False
    assert await store.accept_event(tx.id, 1) is True  # late, but new
    got = await store.get_transaction(tx.id)
    assert got is not None and got.last_seq_no == 2
    assert (await store.has_event(tx.id, 1), await store.has_event(tx.id, 3)) == (True, False)
    assert await store.has_event(tx.id + 1000, 0) is False
    with pytest.raises(KeyError):
        await store.accept_event(tx.id + 1000, 0)


async def test_an_event_stores_its_meter_values_with_its_seq_no_and_a_seen_one_stores_none(store: Store) -> None:
    tx, _ = await store.start_transaction(new_tx())
    assert await store.accept_event(tx.id, 1, meter_values=[sample(tx.id, 1, 1200.0), sample(tx.id, 2, 1500.0)])
    assert (
        await store.accept_event(tx.id, 1, meter_values=[sample(tx.id, 1, 1200.0), sample(tx.id, 2, 1500.0)]) is False
    )
    assert numbers(await store.meter_values(tx.id)) == [1200.0, 1500.0]
    got = await store.get_transaction(tx.id)
    assert got is not None and (got.last_seq_no, got.last_meter_wh) == (1, 1500.0)
    with pytest.raises(KeyError):  # an unknown transaction: neither the event nor its values are stored
        await store.accept_event(tx.id + 1000, 0, meter_values=[sample(None, 3, 9.0)])
    assert await store.has_event(tx.id + 1000, 0) is False


async def test_list_and_find_transactions(store: Store) -> None:
    a, _ = await store.start_transaction(new_tx("a", remote_id="R-a"))
    b, _ = await store.start_transaction(new_tx("b", charger_id="CP2"))
    c, _ = await store.start_transaction(new_tx("c"))
    d, _ = await store.start_transaction(new_tx("d"))
    await store.stop_transaction(c.id, stopped_at=at(9), meter_stop_wh=None, reason=None)

    ids = [t.id for t in await store.list_transactions()]
    assert ids == [d.id, c.id, b.id, a.id]
    assert [t.id for t in await store.list_transactions(charger_id="CP1")] == [d.id, c.id, a.id]
    assert [t.id for t in await store.list_transactions(charger_id="CP1", active=True)] == [d.id, a.id]
    assert [t.id for t in await store.list_transactions(active=False)] == [c.id]
    assert [t.id for t in await store.list_transactions(limit=2)] == [d.id, c.id]
    assert [t.id for t in await store.active_transactions("CP1")] == [a.id, d.id]
    assert await store.active_transactions("nope") == []

    assert await store.find_by_remote_id("CP1", "R-a") == a
    assert await store.find_by_remote_id("CP2", "R-a") is None
    assert await store.get_transaction(a.id + 1000) is None


# --- tokens -------------------------------------------------------------------------------------------------


async def test_tokens(store: Store) -> None:
    expiring = IdToken(id_tag="B", status=TokenStatus.ACCEPTED, expires_at=at(60), parent_id_tag="GROUP")
    await store.put_token(expiring)
    await store.put_token(IdToken(id_tag="A"))
    assert await store.get_token("B") == expiring
    assert await store.get_token("nope") is None
    assert await store.list_tokens() == [IdToken(id_tag="A"), expiring]

    await store.set_token_status("A", TokenStatus.BLOCKED)
    assert await store.get_token("A") == IdToken(id_tag="A", status=TokenStatus.BLOCKED)
    await store.put_token(IdToken(id_tag="B", status=TokenStatus.INVALID))  # replaces every field
    assert await store.get_token("B") == IdToken(id_tag="B", status=TokenStatus.INVALID)
    with pytest.raises(KeyError):
        await store.set_token_status("nope", TokenStatus.BLOCKED)


# --- times --------------------------------------------------------------------------------------------------


async def test_times_come_back_as_aware_utc(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=plus_two)
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    await store.touch("CP1", local)
    await store.put_token(IdToken(id_tag="A", expires_at=local))
    got = await store.get_charger("CP1")
    token = await store.get_token("A")
    assert got is not None and got.last_seen is not None and token is not None and token.expires_at is not None
    for value in (got.last_seen, token.expires_at):
        assert value == datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC) and value.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    with pytest.raises(ValueError, match="naive"):
        await store.touch("CP1", datetime(2024, 5, 1, 12, 0))


# --- SQL only: durability and migrations --------------------------------------------------------------------


async def test_data_survives_closing_and_reopening(sql_url: str) -> None:
    first = await open_store(sql_url)
    await first.add_charger("CP1", registration=Registration.ACCEPTED, password_hash="h")
    await first.set_connector_status("CP1", 1, 1, ConnectorStatus.CHARGING, None, at(1))
    tx, _ = await first.start_transaction(new_tx())
    await first.add_meter_values([sample(tx.id, 1, 1500.0)])
    await first.accept_event(tx.id, 0)
    await first.put_token(IdToken(id_tag="A"))
    charger_before = await first.get_charger("CP1")
    tx_before = await first.get_transaction(tx.id)
    await first.close()

    second = await open_store(sql_url)
    try:
        assert await second.get_charger("CP1") == charger_before
        assert await second.get_transaction(tx.id) == tx_before
        assert tx_before is not None and tx_before.last_meter_wh == 1500.0
        assert numbers(await second.meter_values(tx.id)) == [1500.0]
        assert await second.accept_event(tx.id, 0) is False
        assert await second.get_token("A") == IdToken(id_tag="A")
        after, created = await second.start_transaction(new_tx("next"))
        assert created and after.id > tx.id
    finally:
        await second.close()


async def test_another_process_sees_the_directory_revision_move(sql_url: str) -> None:
    server, admin = await open_store(sql_url), await open_store(sql_url)
    try:
        before = await server.directory_revision()
        await admin.add_charger("CP1", registration=Registration.ACCEPTED)
        assert await server.directory_revision() != before
        assert [c.id for c in await server.list_chargers()] == ["CP1"]
    finally:
        await server.close()
        await admin.close()


async def test_a_cancelled_caller_does_not_cancel_its_write(sql_url: str) -> None:
    store = await open_store(sql_url)
    started = asyncio.create_task(store.add_charger("CP1", registration=Registration.ACCEPTED))
    await asyncio.sleep(0)  # the write is under way
    started.cancel()
    with pytest.raises(asyncio.CancelledError):
        await started
    await store.close()  # waits for the write

    reopened = await open_store(sql_url)
    try:
        assert [c.id for c in await reopened.list_chargers()] == ["CP1"]
    finally:
        await reopened.close()


async def test_cancelling_callers_repeatedly_leaves_no_task_behind(sql_url: str) -> None:
    store = await open_store(sql_url)
    await store.add_charger("CP1", registration=Registration.ACCEPTED)
    for i in range(40):
        call = asyncio.create_task(store.touch("CP1", at(i)) if i % 2 else store.directory_revision())
        await asyncio.sleep(0.0001 * (i % 7))
        call.cancel()  # twice: the second one used to hit SQLAlchemy's connection teardown
        await asyncio.sleep(0.0001 * (i % 3))
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
    got = await store.get_charger("CP1")
    await store.close()
    assert got is not None and got.last_seen is not None
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_migrations_are_idempotent_and_match_the_tables(sql_url: str) -> None:
    await (await open_store(sql_url)).close()
    store = await open_store(sql_url)  # second upgrade: nothing to do
    await store.close()

    engine = create_engine(sql_url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            drift = await conn.run_sync(_schema_drift)
    finally:
        await engine.dispose()
    assert drift == []


def _schema_drift(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, metadata))


async def test_alembic_runs_by_hand_with_the_same_migrations(sql_url: str) -> None:
    # What an operator does with `alembic` and engine.alembic_config(url); env.py then makes its own engine.
    await asyncio.to_thread(command.upgrade, alembic_config(sql_url), "head")
    store = await open_store(sql_url)
    try:
        await store.add_charger("CP1", registration=Registration.ACCEPTED)
        assert [c.id for c in await store.list_chargers()] == ["CP1"]
    finally:
        await store.close()
    await asyncio.to_thread(command.downgrade, alembic_config(sql_url), "base")
    assert await _table_names(sql_url) == ["alembic_version"]


async def _table_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return sorted(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_concurrent_opens_migrate_once(sql_url: str) -> None:
    stores = await asyncio.gather(*(open_store(sql_url) for _ in range(3)))
    try:
        await stores[0].add_charger("CP1", registration=Registration.ACCEPTED)
        assert [c.id for c in await stores[2].list_chargers()] == ["CP1"]
    finally:
        for opened in stores:
            await opened.close()


async def test_sqlite_file_uses_the_write_ahead_log(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/nested/dir/cw.db"
    await (await open_store(url)).close()
    database = make_url(url).database
    assert database is not None
    with sqlite3.connect(database) as check:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    check.close()


async def test_unsupported_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        await open_store("mysql+aiomysql://localhost/chargewise")
    with pytest.raises(ValueError, match="synchronous"):
        await open_store("sqlite+aiosqlite:///x.db?synchronous=off")
    with pytest.raises(ValueError, match="MemoryStore"):
        await open_store("sqlite+aiosqlite:///:memory:")


async def test_record_connections_in_one_batch(store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    from chargewise.domain.model import Registration
    from chargewise.domain.ports import ConnectionChange

    t0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    for cid in ("A", "B"):
        await store.add_charger(cid, registration=Registration.ACCEPTED)
    await store.record_connections([
        ConnectionChange(charger_id="A", connected=True, at=t0),
        ConnectionChange(charger_id="B", connected=True, at=t0),
        ConnectionChange(charger_id="GONE", connected=True, at=t0),  # removed meanwhile: skipped
        ConnectionChange(charger_id="B", connected=False, at=t0 + timedelta(seconds=5)),  # later change wins
    ])  # fmt: skip
    a, b = await store.get_charger("A"), await store.get_charger("B")
    assert a is not None and a.connected and a.offline_since is None and a.last_seen == t0
    assert b is not None and not b.connected and b.offline_since == t0 + timedelta(seconds=5)
    assert await store.get_charger("GONE") is None


async def test_record_connections_registers_new_chargers(store: Store) -> None:
    from datetime import UTC, datetime

    from chargewise.domain.model import Registration
    from chargewise.domain.ports import ConnectionChange

    t0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    await store.add_charger("KNOWN", registration=Registration.ACCEPTED)
    revision = await store.directory_revision()
    await store.record_connections([
        ConnectionChange(charger_id="NEW", connected=True, at=t0, register_as=Registration.PENDING),
        ConnectionChange(charger_id="KNOWN", connected=True, at=t0, register_as=Registration.PENDING),  # exists: kept
    ])  # fmt: skip
    new, known = await store.get_charger("NEW"), await store.get_charger("KNOWN")
    assert new is not None and new.registration is Registration.PENDING and new.connected
    assert known is not None and known.registration is Registration.ACCEPTED and known.connected
    assert await store.directory_revision() == revision  # the admitting server knows them already


_OLD_SAMPLE_COLUMNS = ("charger_id", "evse_id", "transaction_id", "measurand", "value", "unit", "phase", "context")


async def test_migration_0003_regroups_samples_into_meter_values_and_back(sql_url: str) -> None:
    # Rows as revision 0002 stored them (one per sampled value), two instants of one transaction, then a
    # sample outside any transaction at the same instant.
    old = sa_table("meter_samples", sa_column("timestamp", UtcDateTime()), *map(sa_column, _OLD_SAMPLE_COLUMNS))
    rows = [
        {"timestamp": at(1), "charger_id": "CP1", "evse_id": 1, "transaction_id": 7, "measurand": REGISTER,
         "value": 1500.0, "unit": "Wh", "phase": None, "context": "Sample.Periodic"},
        {"timestamp": at(1), "charger_id": "CP1", "evse_id": 1, "transaction_id": 7, "measurand": "Current.Import",
         "value": 16.0, "unit": "A", "phase": "L1", "context": "Sample.Periodic"},
        {"timestamp": at(2), "charger_id": "CP1", "evse_id": 1, "transaction_id": 7, "measurand": REGISTER,
         "value": 1600.0, "unit": "Wh", "phase": None, "context": None},
        {"timestamp": at(1), "charger_id": "CP1", "evse_id": 1, "transaction_id": None, "measurand": "Voltage",
         "value": 230.0, "unit": "V", "phase": None, "context": None},
    ]  # fmt: skip
    config = alembic_config(sql_url)
    await asyncio.to_thread(command.upgrade, config, "0002")
    engine = create_engine(sql_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(old.insert(), rows)
        await asyncio.to_thread(command.upgrade, config, "head")
        store = await open_store(sql_url)
        try:
            got = await store.meter_values(7)
        finally:
            await store.close()
        assert [(v.timestamp, s.measurand, s.value, s.unit, s.phase, s.context) for v in got for s in v.sampled] == [
            (r["timestamp"], r["measurand"], r["value"], r["unit"], r["phase"], r["context"]) for r in rows[:3]
        ]
        assert [len(v.sampled) for v in got] == [2, 1]
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM meter_values"))).scalar()
        assert stored == 3  # two instants of transaction 7, one without a transaction

        await asyncio.to_thread(command.downgrade, config, "0002")
        async with engine.connect() as conn:
            back = (await conn.execute(select(old).order_by(text("id")))).mappings().all()
        assert sorted((dict(r) for r in back), key=repr) == sorted(rows, key=repr)
    finally:
        await engine.dispose()


async def test_migration_0004_makes_the_reapers_old_stops_provisional(sql_url: str) -> None:
    old = sa_table("transactions", *map(sa_column, ("charger_id", "evse_id", "connector_id", "dedupe_key",
                                                    "stop_reason")), sa_column("started_at", UtcDateTime()),
                   sa_column("stopped_at", UtcDateTime()))  # fmt: skip
    base = {"charger_id": "CP1", "evse_id": 1, "connector_id": 1, "started_at": at(0)}
    rows = [
        base | {"dedupe_key": "a", "stop_reason": "Orphaned: connector free, no stop received", "stopped_at": at(5)},
        base | {"dedupe_key": "b", "stop_reason": "Local", "stopped_at": at(5)},
        base | {"dedupe_key": "c", "stop_reason": None, "stopped_at": None},
    ]
    config = alembic_config(sql_url)
    await asyncio.to_thread(command.upgrade, config, "0003")
    engine = create_engine(sql_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(old.insert(), rows)
        await asyncio.to_thread(command.upgrade, config, "head")
        store = await open_store(sql_url)
        try:
            got = sorted(await store.list_transactions(), key=lambda t: t.id)
        finally:
            await store.close()
        assert [(t.provisional, t.stop_reason) for t in got] == [(True, rows[0]["stop_reason"]), (False, "Local"),
                                                                 (False, None)]  # fmt: skip
        await asyncio.to_thread(command.downgrade, config, "0003")
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT stop_reason FROM transactions ORDER BY id"))).scalars().all()
        assert back == [r["stop_reason"] for r in rows]
    finally:
        await engine.dispose()
