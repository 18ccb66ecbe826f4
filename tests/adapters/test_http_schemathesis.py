"""Schemathesis against the served OpenAPI document: every operation, valid and invalid inputs, on a real
server (its own thread and event loop) with registered chargers, a token, a transaction and one simulated
1.6 charger connected. No answer may be a 5xx or break the document (status, content type, headers, schema).

Bounded: ``EXAMPLES`` cases per operation and mode, and the whole run within ``BUDGET_S``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chargewise.domain.model import OcppVersion, Registration
from chargewise.domain.ports import NewTransaction
from chargewise.services.connections import LinkSettings
from chargewise.simulator.templates import load_template
from tests.conftest import RunningServer, start_server
from tests.simulator.test_runner import Runner, spec

EXAMPLES = 6
BUDGET_S = 90.0
KNOWN_IDS = [None, "SIM-16", "REG-1", "PEND-1"]  # None: the id schemathesis made up
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]  # fmt: skip


class Served:
    """A server and a simulated charger on an event loop in a thread of their own (requests blocks)."""

    def __init__(self, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: RunningServer = self.run(self._start(data_dir))

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    async def _start(self, data_dir: Path) -> RunningServer:
        server = await start_server(data_dir, link=LinkSettings(call_timeout=1.0))
        admin = server.app.admin
        await admin.add("REG-1", password="p" * 16)
        await admin.add("PEND-1", registration=Registration.PENDING)
        await server.app.store.add_charger("SIM-16", registration=Registration.ACCEPTED)
        t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
        await server.app.store.start_transaction(NewTransaction(
            charger_id="REG-1", evse_id=1, connector_id=1, id_tag="TAG1", started_at=t0, meter_start_wh=0.0,
            dedupe_key="1|TAG1|0|t0"))  # fmt: skip
        start = time.time()
        self.runner = Runner([spec("SIM-16", OcppVersion.V16, tpl=load_template("esp32-generic"), start=start)],
                             url=server.ocpp_url, speed=1, start=start)  # fmt: skip
        await self.runner.start()
        return server

    def stop(self) -> None:
        async def stop() -> None:
            await self.runner.stop()
            await self.server.app.stop()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    running = Served(tmp_path / "data")
    try:
        yield running
    finally:
        running.stop()


def exercise(operation: Any, mode: GenerationMode, base: str, headers: dict[str, str],
             session: requests.Session) -> str | None:  # fmt: skip
    """Up to ``EXAMPLES`` cases of ``operation``; the first failure (a few lines), or None."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=True)  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode), known=st.sampled_from(KNOWN_IDS))
    def run(case: Any, known: str | None) -> None:
        if known is not None and "id" in (case.path_parameters or {}) and "/chargers/" in case.path:
            case.path_parameters = {**case.path_parameters, "id": known}  # reach real chargers too
        case.call_and_validate(base_url=base, session=session, headers=headers, checks=CHECKS, timeout=10)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE and not operation.definition.raw.get("parameters") and \
                "requestBody" not in operation.definition.raw:  # fmt: skip
            return None  # nothing to make invalid: no parameter, no body (GET /healthz)
        return "no input could be generated"
    except Exception as exc:
        return " | ".join(line for e in _leaves(exc) for line in str(e).splitlines()[:12])
    return None


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


# Hypothesis notes when the global ``random`` state changes while it draws a case: here the server's thread (the
# simulated charger, aiohttp) moves it, not the strategies, so the note is noise for this test alone.
ENDLESS = {"/api/v1/events"}  # server-sent events


@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
def test_no_server_error_and_no_answer_breaks_the_document(served: Served) -> None:
    base = served.server.http_url
    document = requests.get(f"{base}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {served.server.admin_token}"}
    failures: list[str] = []
    deadline = time.monotonic() + BUDGET_S
    session = requests.Session()
    answered: list[int] = []
    session.hooks["response"].append(lambda r, *args, **kwargs: answered.append(r.status_code))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(item) for item in document["paths"].values())
    for operation in operations:
        if operation.path in ENDLESS:
            continue  # an admitted request never ends; tests/adapters/test_http_events.py covers the stream
        # a raw upload takes any bytes: there is no invalid body to generate for it
        raw = operation.path.startswith("/uploads/")
        for mode in (GenerationMode.POSITIVE,) if raw else (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = exercise(operation, mode, base, headers, session)
            if failure is not None:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {failure}")
            assert time.monotonic() < deadline, f"over the {BUDGET_S:.0f} s budget at {operation.path}"
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
    assert failures == []
    assert len(answered) >= (len(operations) - len(ENDLESS)) * EXAMPLES  # both modes ran, about EXAMPLES cases each
    assert {200, 201, 202, 204} & set(answered) and {400, 404, 422} <= set(answered)


def test_the_checks_catch_an_answer_the_document_does_not_allow(served: Served) -> None:
    # the control: with 404 taken out of the document, asking for an unknown charger must fail the checks
    base = served.server.http_url
    document = requests.get(f"{base}/openapi.json", timeout=10).json()
    del document["paths"]["/api/v1/chargers/{id}"]["get"]["responses"]["404"]
    operation = schemathesis.openapi.from_dict(document)["/api/v1/chargers/{id}"]["GET"]
    case = operation.Case(path_parameters={"id": "NOBODY"})
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {served.server.admin_token}"},
                               checks=CHECKS, timeout=10)  # fmt: skip
