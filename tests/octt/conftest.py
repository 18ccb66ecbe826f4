"""One server per OCTT module (cases use their own station ids), strict: unknown id tags are Invalid."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from chargewise.adapters.ws_server import LinkSettings
from tests.conftest import RunningServer, start_server

HERE = Path(__file__).parent


def link_settings() -> LinkSettings:
    """Short waits: a command the station does not answer fails in 2 s, not 30."""
    settings = LinkSettings(call_timeout=2.0)
    if any(f.name == "boot_wait" for f in dataclasses.fields(settings)):  # the field goes away with issue 10
        settings = dataclasses.replace(settings, **{"boot_wait": 1.0})
    return settings


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def octt_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path_factory.mktemp("octt") / "data", free_charging=False, link=link_settings())
    try:
        yield running
    finally:
        await running.app.stop()


def scenarios(relative: str) -> list[Any]:
    """The scenarios of a data file next to this one, as pytest params named by case id."""
    cases = json.loads((HERE / relative).read_text())
    return [pytest.param(case, id=case["id"]) for case in cases]
