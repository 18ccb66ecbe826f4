"""The event hub fed by a real simulated charger: its connection, status changes, meter values and its
transaction's start arrive as events, both OCPP versions."""

from __future__ import annotations

import time

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.services.events import Event, Kind
from chargewise.simulator.templates import load_template
from tests.conftest import RunningServer
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import Runner, spec


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_a_charging_session_is_told_as_events(server: RunningServer, version: OcppVersion) -> None:
    hub = server.app.central.events
    charger_id = f"EVENTS-{version.name}"
    seen: list[Event] = []
    start = time.time()
    runner = Runner([spec(charger_id, version, tpl=load_template("esp32-generic"), start=start)],
                    url=server.ocpp_url, speed=60, start=start)  # fmt: skip
    with hub.subscribe(chargers=[charger_id]) as sub:
        await runner.start()
        try:

            def complete() -> bool:
                started = any(e.kind is Kind.TRANSACTION and e.data["state"] == "started" for e in seen)
                drawn = any(e.kind is Kind.METER and (e.data["energy_wh"] or 0) > 0 for e in seen)
                return started and drawn and {Kind.CONNECTION, Kind.STATUS} <= {e.kind for e in seen}

            deadline = time.monotonic() + 30
            while not complete():
                assert time.monotonic() < deadline, sorted({e.kind.value for e in seen})
                if (event := await sub.next(0.5)) is not None:
                    seen.append(event)
        finally:
            await runner.stop()
    assert seen[0].kind is Kind.CONNECTION and seen[0].data == {"connected": True}
    assert [e.seq for e in seen] == sorted(e.seq for e in seen)
    started = next(e for e in seen if e.kind is Kind.TRANSACTION)
    assert started.data["evse"] == 1 and started.data["state"] == "started"
    await until(lambda: any(e.kind is Kind.CONNECTION and e.data == {"connected": False}
                            for e in hub.recent(50, chargers=[charger_id])), 10)  # fmt: skip
