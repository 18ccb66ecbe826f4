from __future__ import annotations

import pytest

from chargewise.domain.model import OcppVersion
from tests.handlers.station import Station, open_station


@pytest.fixture
async def station() -> Station:
    """An accepted 2.0.1 charger ``CP-1`` under the strict policy."""
    return await open_station(OcppVersion.V201)
