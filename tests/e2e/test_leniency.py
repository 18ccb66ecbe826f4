"""Per-charger leniency: a charger whose profile names a quirk is accepted and counted; others stay strict."""

from __future__ import annotations

import json

import aiohttp
import websockets

from chargewise.domain.model import Registration
from chargewise.services.directory import entry_for
from tests.conftest import RunningServer, add_chargers

LONG_MODEL = {"chargePointVendor": "Acme", "chargePointModel": "Model-name-longer-than-20"}


async def boot(server: RunningServer, charger_id: str) -> list[object]:
    async with websockets.connect(f"{server.ocpp_url}/{charger_id}", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps([2, "b", "BootNotification", LONG_MODEL]))
        answer: list[object] = json.loads(await ws.recv())
        await ws.send(json.dumps([2, "h", "Heartbeat", {}]))
        assert json.loads(await ws.recv())[0] == 3
        async with (
            aiohttp.ClientSession(headers=server.headers) as http,
            http.get(f"{server.http_url}/api/v1/chargers/{charger_id}") as r,
        ):
            answer.append(await r.json())
        return answer


async def test_quirk_is_coerced_and_counted(server: RunningServer) -> None:
    store = server.app.store
    await store.add_charger("QUIRKY", registration=Registration.ACCEPTED)
    await store.set_quirks("QUIRKY", ("long-strings",))
    charger = await store.get_charger("QUIRKY")
    assert charger is not None
    server.app.directory.put(entry_for(charger))
    answer = await boot(server, "QUIRKY")
    assert answer[0] == 3 and answer[2] == {**answer[2], "status": "Accepted"}  # type: ignore[dict-item]
    view = answer[-1]
    assert view["quirk_counts"] == {"long-strings": 1} and view["quirks"] == ["long-strings"]  # type: ignore[index]
    assert view["boot"]["model"] == "Model-name-longer-th"  # type: ignore[index]  # truncated to maxLength 20


async def test_strict_by_default(server: RunningServer) -> None:
    await add_chargers(server.app, "STRICT")  # known: an unknown id's refused boot would leave no record to read
    answer = await boot(server, "STRICT")
    assert answer[:3] == [4, "b", "PropertyConstraintViolation"]
    assert answer[-1]["boot"] is None  # type: ignore[index]  # nothing from the rejected boot was stored
