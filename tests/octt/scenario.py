"""Run one OCTT case from a scenario file against a real server, as the station and as the operator.

A scenario is ``{"id", "name", "before"?, "charger"?, "tokens"?, "steps"}``; the station's id is the case id.
``before`` is the OCTT's reusable state to start from: ``"booted"`` (default: a BootNotification answered
Accepted) or ``"none"``. ``charger`` is the row to create first through REST (e.g. ``{"registration":
"Pending"}``); ``tokens`` are id tokens to add through REST. Each step is one of:

- ``{"cs": ACTION, "payload", "result"? | "error"?, "save"?}``: the station sends a call; the CSMS's CallResult
  must match ``result`` (a subset, see ``match``; ``{}``: exactly empty), or its CallError code must be ``error`` (``"<present>"``: any);
  ``save`` names values of the answer (``{"tx": "transactionId"}``) for later ``"$tx"``; ``"$now-300"`` is a
  timestamp 300 s before the scenario began (for cases where the CSMS may compare the station's times with its clock).
- ``{"csms": ACTION, "payload", "answer"? | "answer_error"?}``: the operator sends the command through
  ``POST /api/v1/chargers/{id}/calls``; the station must receive exactly that call (action and payload) and
  answers ``answer`` (default ``{"status": "Accepted"}``) or the CallError ``answer_error``; the REST answer must
  be HTTP 200 carrying the station's answer.
- ``{"transaction": MATCH, "expect", "save"?}``: exactly one of the station's transactions matches MATCH, and
  its ``GET /api/v1/transactions/{id}`` view matches ``expect``. ``{"transactions": MATCH, "count": N}``.
- ``{"charger": EXPECT}``: ``GET /api/v1/chargers/{id}`` matches EXPECT.
- ``{"operator": "approve"}``: the operator accepts the (Pending) charger, ``POST /api/v1/chargers/{id}/approve``.
- ``{"reconnect": "without-boot"}``: the station drops its link and connects again, sending no BootNotification.

Any step may carry a ``"note"``: the case's own words for it.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from tests.conftest import RunningServer
from tests.octt import station as st
from tests.octt.match import mismatches, pick

NOW = re.compile(r"\$now([+-][0-9]+)?")  # "$now-300": the run's start time, moved by that many seconds
REST_WITHIN = aiohttp.ClientTimeout(total=6.0)  # an operator's command answered later than this fails the step
BOOT = {
    "1.6": {"chargePointVendor": "OCTT", "chargePointModel": "CSMS-suite", "firmwareVersion": "1.0"},
    "2.0.1": {"chargingStation": {"vendorName": "OCTT", "model": "CSMS-suite", "firmwareVersion": "1.0"},
              "reason": "PowerUp"},
}  # fmt: skip


class Run:
    """One scenario's state: the station, the REST client, and the values saved so far."""

    def __init__(self, server: RunningServer, version: str, scenario: dict[str, Any]) -> None:
        self.server, self.version, self.scenario = server, version, scenario
        self.charger_id: str = scenario["id"]
        self.values: dict[str, Any] = {"id": self.charger_id}
        self.started = datetime.now(UTC).replace(microsecond=0)
        self.station: st.Station | None = None
        self.http: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------------ plumbing
    def fill(self, template: Any) -> Any:
        """``template`` with every ``"$name"`` string replaced by the saved value (keeping its type)."""
        if isinstance(template, dict):
            return {k: self.fill(v) for k, v in template.items()}
        if isinstance(template, list):
            return [self.fill(v) for v in template]
        if isinstance(template, str) and template.startswith("$") and template[1:] in self.values:
            return self.values[template[1:]]
        if isinstance(template, str) and (now := NOW.fullmatch(template)):
            at = self.started + timedelta(seconds=int(now.group(1) or 0))
            return at.isoformat().replace("+00:00", "Z")
        return template

    async def rest(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self.http is not None
        url = f"{self.server.http_url}/api/v1{path}"
        async with self.http.request(method, url, json=body) as r:
            return r.status, await r.json() if r.status != 204 else None

    def check(self, expected: Any, actual: Any, what: str) -> None:
        problems = mismatches(expected, actual)
        assert not problems, f"{self.charger_id} {what}: " + "; ".join(problems) + f"\n  actual: {actual!r}"

    # ------------------------------------------------------------------ the scenario
    async def play(self) -> None:
        async with aiohttp.ClientSession(headers=self.server.headers, timeout=REST_WITHIN) as self.http:
            for token in self.scenario.get("tokens", []):
                status, answer = await self.rest("POST", "/tokens", token)
                assert status == 201, answer
            if "charger" in self.scenario:
                status, answer = await self.rest(
                    "POST", "/chargers", {"id": self.charger_id, **self.scenario["charger"]}
                )
                assert status == 201, answer
            self.station = await st.connect(self.server.ocpp_url, self.charger_id, self.version)
            try:
                if self.scenario.get("before", "booted") == "booted":
                    await self.step({"cs": "BootNotification", "payload": BOOT[self.version],
                                     "result": {"status": "Accepted"}})  # fmt: skip
                for number, step in enumerate(self.scenario["steps"], 1):
                    await self.step(step, number)
            finally:
                await self.station.close()

    async def step(self, step: dict[str, Any], number: int = 0) -> None:
        kind = next(
            k for k in ("cs", "csms", "transaction", "transactions", "charger", "operator", "reconnect") if k in step
        )
        await getattr(self, f"_{kind}")(step, f"step {number} ({kind} {step[kind]})")

    async def _cs(self, step: dict[str, Any], what: str) -> None:
        assert self.station is not None
        reply = await self.station.call(step["cs"], self.fill(step.get("payload", {})))
        if "error" in step:
            assert reply.error_code is not None, f"{self.charger_id} {what}: expected a CallError, got {reply}"
            self.check(step["error"], reply.error_code, what)
            return
        assert reply.payload is not None, f"{self.charger_id} {what}: expected a CallResult, got {reply}"
        expected = self.fill(step.get("result", {}))
        if expected == {}:  # an empty answer is what the spec asks for (StatusNotification, MeterValues, ...)
            assert reply.payload == {}, f"{self.charger_id} {what}: expected an empty answer, got {reply.payload}"
        self.check(expected, reply.payload, what)
        for name, dotted in step.get("save", {}).items():
            self.values[name] = pick(reply.payload, dotted)

    async def _csms(self, step: dict[str, Any], what: str) -> None:
        assert self.station is not None
        action, payload = step["csms"], self.fill(step.get("payload", {}))
        answer = self.fill(step.get("answer", {"status": "Accepted"}))
        self.station.answers[action] = answer
        if "answer_error" in step:
            self.station.errors[action] = step["answer_error"]
        self.station.received.clear()
        try:
            status, body = await self.rest("POST", f"/chargers/{self.charger_id}/calls",
                                           {"action": action, "payload": payload})  # fmt: skip
        except TimeoutError:
            raise AssertionError(f"{self.charger_id} {what}: no REST answer within {REST_WITHIN.total} s") from None
        finally:
            self.station.errors.pop(action, None)
        # calls the CSMS makes of its own accord (other actions) may come meanwhile: only this action counts
        sent = [call for call in self.station.received if call[0] == action]
        assert status == 200, f"{self.charger_id} {what}: HTTP {status}, expected 200: {body}"
        assert sent == [(action, payload)], f"{self.charger_id} {what}: sent {sent}"
        if "answer_error" in step:
            self.check({"result": None, "error": {"code": step["answer_error"]}}, body, what)
        else:
            self.check({"action": action, "result": answer, "error": None}, body, what)

    async def _transactions_matching(self, match: dict[str, Any]) -> list[dict[str, Any]]:
        status, listed = await self.rest("GET", f"/transactions?charger_id={self.charger_id}")
        assert status == 200, listed
        return [tx for tx in listed if not mismatches(self.fill(match), tx)]

    async def _transaction(self, step: dict[str, Any], what: str) -> None:
        found = await self._transactions_matching(step["transaction"])
        assert len(found) == 1, f"{self.charger_id} {what}: {len(found)} transactions match"
        status, tx = await self.rest("GET", f"/transactions/{found[0]['id']}")
        assert status == 200, tx
        self.check(self.fill(step.get("expect", {})), tx, what)
        for name, dotted in step.get("save", {}).items():
            self.values[name] = pick(tx, dotted)

    async def _transactions(self, step: dict[str, Any], what: str) -> None:
        found = await self._transactions_matching(step["transactions"])
        assert len(found) == step["count"], f"{self.charger_id} {what}: {len(found)} transactions: {found}"

    async def _charger(self, step: dict[str, Any], what: str) -> None:
        status, charger = await self.rest("GET", f"/chargers/{self.charger_id}")
        assert status == 200, charger
        self.check(self.fill(step["charger"]), charger, what)

    async def _operator(self, step: dict[str, Any], what: str) -> None:
        assert step["operator"] == "approve", what
        status, charger = await self.rest("POST", f"/chargers/{self.charger_id}/approve")
        assert status == 200, f"{self.charger_id} {what}: HTTP {status}: {charger}"

    async def _reconnect(self, step: dict[str, Any], what: str) -> None:
        assert self.station is not None and step["reconnect"] == "without-boot", what
        await self.station.close()
        await asyncio.sleep(0.05)  # let the server see the old link go before the new one comes
        self.station = await st.connect(self.server.ocpp_url, self.charger_id, self.version)


async def play(server: RunningServer, version: str, scenario: dict[str, Any]) -> None:
    """Run ``scenario`` (one entry of a scenario file) as the station ``scenario["id"]``; fails on any mismatch."""
    await Run(server, version, scenario).play()
