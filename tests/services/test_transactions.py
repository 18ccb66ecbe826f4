"""Transaction use cases beyond what the handler tests drive: meter readings, remote starts as observed."""

from __future__ import annotations

from chargewise.adapters.memory import MemoryStore
from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import MeterValue, Registration, SampledValue
from chargewise.domain.ports import NewTransaction
from chargewise.services.central import CentralSystem
from chargewise.services.remote_starts import StartReport
from chargewise.services.transactions import first_register, last_register, new_readings
from tests.domain.clock import T0


def sample(measurand: str, value: float, minute: int, phase: str | None = None, **extra: str) -> MeterValue:
    return MeterValue(charger_id="CP-1", evse_id=1, transaction_id=None, timestamp=T0.replace(minute=minute),
                      sampled=(SampledValue(measurand, value, phase=phase, **extra),))  # fmt: skip


def test_last_and_first_register_are_the_latest_and_earliest_whole_register_readings() -> None:
    assert last_register([]) is None and first_register([]) is None
    assert last_register([sample("Voltage", 230, 5)]) is None
    readings = [sample(ENERGY_REGISTER, 300, 3), sample(ENERGY_REGISTER, 100, 9), sample(ENERGY_REGISTER, 999, 9, "L1"),
                sample(ENERGY_REGISTER, 200, 5)]  # fmt: skip
    assert last_register(readings) == 100  # the latest by time, not the largest; per-phase readings do not count
    assert first_register(readings) == 300


def test_new_readings_leave_out_what_is_stored_whatever_its_context() -> None:
    stored = [sample(ENERGY_REGISTER, 1000, 0, context="Transaction.Begin")]
    both = MeterValue(charger_id="CP-1", evse_id=1, transaction_id=None, timestamp=T0, sampled=(
        SampledValue(ENERGY_REGISTER, 1000, context="Sample.Clock"), SampledValue("Voltage", 230)))  # fmt: skip
    fresh = new_readings([sample(ENERGY_REGISTER, 1000, 0), both, sample(ENERGY_REGISTER, 1000, 1)], stored)
    assert [(v.timestamp.minute, [(s.measurand, s.value) for s in v.sampled]) for v in fresh] == [
        (0, [("Voltage", 230)]), (1, [(ENERGY_REGISTER, 1000)]),
    ]  # fmt: skip


async def test_a_remote_start_with_a_transaction_id_not_yet_known_waits_for_it(
    central: CentralSystem, store: MemoryStore
) -> None:
    await store.add_charger("CP-1", registration=Registration.ACCEPTED)
    request = {"idToken": {"idToken": "APP", "type": "Central"}, "remoteStartId": 3}
    await central.transactions.observe_call("CP-1", "RequestStartTransaction", request,
                                            {"status": "Accepted", "transactionId": "LATER"})  # fmt: skip
    await central.transactions.observe_call("CP-1", "RequestStartTransaction", {"idToken": "not an object"},
                                            {"status": "Accepted"})  # fmt: skip
    assert len(central.transactions.remote_starts) == 1
    new = NewTransaction(charger_id="CP-1", evse_id=2, connector_id=1, id_tag="LOCAL", started_at=T0,
                         meter_start_wh=0.0, dedupe_key="LATER", remote_id="LATER")  # fmt: skip
    tx, _ = await central.transactions.start(new, StartReport(evse_id=2, id_tag="LOCAL", remote_id="LATER"))
    assert (tx.id_tag, tx.remote_start_id) == ("LOCAL", 3)  # the charger's own token stays; the id links it
