"""A charger's view of the handlers: one charger in a central system over the in-memory store, a stepping
clock, and every request and answer checked against the official OCPP schema of its version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.memory_reports import MemoryReportStore
from chargewise.doctor.signals import Signals
from chargewise.domain.model import Charger, MeterValue, OcppVersion, Registration, Transaction
from chargewise.handlers.context import Context, Handler, Payload
from chargewise.ocpp.schemas import schema_set
from chargewise.services.central import CentralSystem, Policy
from chargewise.services.meter_writer import MeterWriter
from chargewise.services.reports import Reports
from tests.domain.clock import T0, SteppingClock

CHARGER_ID = "CP-1"


@dataclass(frozen=True, kw_only=True)
class FlatSample:
    """One sampled value with its meter value's fields: what the handler tests compare."""

    charger_id: str
    evse_id: int
    transaction_id: int | None
    timestamp: datetime
    measurand: str
    value: float
    unit: str | None = None
    phase: str | None = None
    context: str | None = None
    location: str | None = None


def flatten(values: Sequence[MeterValue]) -> list[FlatSample]:
    return [
        FlatSample(charger_id=v.charger_id, evse_id=v.evse_id, transaction_id=v.transaction_id,
                   timestamp=v.timestamp, **msgspec.structs.asdict(s))
        for v in values
        for s in v.sampled
    ]  # fmt: skip


class SampleStore(MemoryStore):
    """The real in-memory store that also keeps every committed sampled value in arrival order, linked or not."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: list[FlatSample] = []

    async def add_meter_values(self, values: Sequence[MeterValue]) -> None:
        await super().add_meter_values(values)
        self.samples.extend(flatten(values))

    async def meter_samples(self, transaction_id: int) -> list[FlatSample]:
        """The transaction's sampled values, flattened, in the order ``meter_values`` gives them."""
        return flatten(await self.meter_values(transaction_id))


@dataclass
class Station:
    version: OcppVersion
    store: SampleStore
    clock: SteppingClock
    central: CentralSystem
    charger_id: str = CHARGER_ID

    def context(self) -> Context:
        return Context(charger_id=self.charger_id, version=self.version, central=self.central, now=self.clock.now())

    async def send(self, handle: Handler, action: str, payload: Payload, *, schema_valid: bool = True) -> Payload:
        """Run ``handle`` as the server would for ``action`` and return its answer, which must conform to the
        official response schema. ``schema_valid=False`` lets a request through that the schema would stop
        (as a charger's leniency profile may)."""
        schemas = schema_set(self.version)
        if schema_valid:
            assert schemas.check_request(action, payload) is None, "the test's request breaks the schema"
        answer = await handle(self.context(), payload)
        assert schemas.check_response(action, answer) is None, answer
        return answer

    @property
    def reports(self) -> MemoryReportStore:
        """What the report handlers stored."""
        store = self.central.reports.store
        assert isinstance(store, MemoryReportStore)
        return store

    async def signals(self) -> Signals:
        """What the handlers recorded of this charger's link (``LinkSignals``), up to now."""
        return await self.central.link_signals.signals(self.charger_id, T0 - timedelta(days=1), self.clock.now())

    async def charger(self) -> Charger:
        found = await self.store.get_charger(self.charger_id)
        assert found is not None
        return found

    async def transaction(self, transaction_id: int) -> Transaction:
        found = await self.store.get_transaction(transaction_id)
        assert found is not None
        return found

    async def only_transaction(self) -> Transaction:
        transactions = await self.store.list_transactions()
        assert len(transactions) == 1, transactions
        return transactions[0]


async def open_station(
    version: OcppVersion, *, registration: Registration = Registration.ACCEPTED, policy: Policy | None = None
) -> Station:
    """A known charger ``CP-1`` (and ``CP-2``, its neighbour) with ``registration``; strict policy by default."""
    store, clock = SampleStore(), SteppingClock()
    await store.add_charger(CHARGER_ID, registration=registration)
    await store.add_charger("CP-2", registration=Registration.ACCEPTED)
    central = CentralSystem(store=store, clock=clock, policy=policy or Policy(), meter_writer=MeterWriter(store))
    central.reports = Reports(store=MemoryReportStore())
    return Station(version=version, store=store, clock=clock, central=central)
