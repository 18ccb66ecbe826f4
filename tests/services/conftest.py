"""Services under test run on the in-memory store and a stepping clock.

This directory has no ``__init__.py`` on purpose: ``tests/services.py`` (the external-service gate) owns the
module name ``tests.services``, and a package here would shadow it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.services.central import CentralSystem, Policy
from chargewise.services.meter_writer import MeterWriter
from tests.domain.clock import SteppingClock

MakeCentral = Callable[[Policy], CentralSystem]


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def make_central(store: MemoryStore, clock: SteppingClock) -> MakeCentral:
    """Build a central system with a given policy over the test's store and clock."""

    def make(policy: Policy) -> CentralSystem:
        return CentralSystem(store=store, clock=clock, policy=policy, meter_writer=MeterWriter(store))

    return make


@pytest.fixture
def central(make_central: MakeCentral) -> CentralSystem:
    """Strict policy (the default): unknown tokens are Invalid."""
    return make_central(Policy())
