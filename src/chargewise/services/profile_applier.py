"""Puts charging profiles on chargers and makes sure they hold: probe, send what changed, walk the fallback
ladder on refusal, read back the composite schedule.

The reconcile loop hands :meth:`ProfileApplier.apply` the targets it wants for a charger's EVSEs (and the
failsafe share); the applier decides what to send. What a charger accepted is remembered per charger until
its link drops (:meth:`forget`): after a reconnect or a reboot everything is sent again, since a rebooted
charger may have lost its profiles (OCPP 1.6 3.13.1 leaves persistence to the charger). Call outcomes are
reported, never raised: an offline or slow charger is tried again next cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chargewise.charging import capabilities
from chargewise.charging.capabilities import Capabilities
from chargewise.charging.profiles import (
    Compiled,
    ProfileUnsupported,
    Sent,
    Target,
    composite_request,
    control,
    needs_send,
)
from chargewise.charging.profiles import failsafe as compile_failsafe
from chargewise.charging.verify import Verdict, verify
from chargewise.domain.model import OcppVersion
from chargewise.services.connections import CallOutcome, CallTimeout, ChargerOffline, NotAccepted

log = logging.getLogger(__name__)
Call = Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]]
READ_BACK_S = 900  # how far ahead the composite schedule is read back


@dataclass(frozen=True, kw_only=True, slots=True)
class Failsafe:
    """The share an EVSE may always draw, even with the backend gone."""

    evse_id: int
    limit_a: float
    phases: int = 1
    voltage_v: float = 230.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Applied:
    """What happened to one EVSE's control target this cycle."""

    evse_id: int
    sent: bool  # a SetChargingProfile went out (False: unchanged, nothing to do)
    accepted: bool
    purpose: str | None = None
    verdict: Verdict | None = None
    detail: str = ""


@dataclass(kw_only=True)
class _Charger:
    caps: Capabilities = field(default_factory=Capabilities)
    sent: dict[int, Sent] = field(default_factory=dict)  # profile id -> what the charger accepted


class ProfileApplier:
    def __init__(self, *, call: Call) -> None:
        self._call = call
        self._chargers: dict[str, _Charger] = {}

    def capabilities(self, charger_id: str) -> Capabilities:
        return self._state(charger_id).caps

    def forget(self, charger_id: str) -> None:
        """The link dropped: send everything again once it is back."""
        self._chargers.pop(charger_id, None)

    def _state(self, charger_id: str) -> _Charger:
        return self._chargers.setdefault(charger_id, _Charger())

    async def probe(self, charger_id: str, version: OcppVersion) -> Capabilities:
        """Read the charger's smart-charging keys once per link; defaults where it does not say."""
        state = self._state(charger_id)
        if state.caps.probed:
            return state.caps
        if version is OcppVersion.V16:
            outcome = await self._try(charger_id, "GetConfiguration", {"key": list(capabilities.V16_KEYS)})
            keys = {k["key"]: str(k.get("value", "")) for k in (outcome.payload or {}).get("configurationKey", [])}
            caps = capabilities.from_v16(keys) if outcome.ok else Capabilities(probed=True)
        else:
            wanted = [{"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": n}}
                      for n in capabilities.V201_VARIABLES]  # fmt: skip
            outcome = await self._try(charger_id, "GetVariables", {"getVariableData": wanted})
            found = {r["variable"]["name"]: str(r.get("attributeValue", ""))
                     for r in (outcome.payload or {}).get("getVariableResult", [])
                     if r.get("attributeStatus") == "Accepted"}  # fmt: skip
            caps = capabilities.from_v201(found) if outcome.ok else Capabilities(probed=True)
        state.caps = caps
        return caps

    async def apply(
        self, charger_id: str, version: OcppVersion, targets: list[Target], now: datetime,
        *, failsafes: Sequence[Failsafe] = (),
    ) -> list[Applied]:  # fmt: skip
        """Bring the charger to ``targets`` (one per EVSE under control) and ``failsafes``; returns what was
        done per target. Raises nothing for a charger that is offline or slow: the result says so."""
        try:
            caps = await self.probe(charger_id, version)
            for safe in failsafes:
                await self._failsafe(charger_id, version, safe, caps, now)
            return [await self._control(charger_id, version, t, now) for t in targets]
        except (ChargerOffline, CallTimeout, NotAccepted) as exc:
            self.forget(charger_id)  # unknown what it holds now
            return [Applied(evse_id=t.evse_id, sent=False, accepted=False, detail=str(exc)) for t in targets]

    async def _failsafe(self, charger_id: str, version: OcppVersion, safe: Failsafe, caps: Capabilities,
                        now: datetime) -> None:  # fmt: skip
        try:
            compiled = compile_failsafe(safe.evse_id, safe.limit_a, safe.phases, caps, version, now,
                                        voltage_v=safe.voltage_v)  # fmt: skip
        except ProfileUnsupported as exc:
            log.warning("%s: no failsafe profile possible: %s", charger_id, exc)
            return
        if needs_send(self._state(charger_id).sent.get(compiled.profile_id), compiled, now):
            accepted, detail = await self._send(charger_id, compiled, now)
            if not accepted:
                log.warning("%s: failsafe profile for EVSE %d refused: %s", charger_id, safe.evse_id, detail)

    async def _control(self, charger_id: str, version: OcppVersion, target: Target, now: datetime) -> Applied:
        state = self._state(charger_id)
        while True:
            try:
                compiled = control(target, state.caps, version, now)
            except ProfileUnsupported as exc:
                return Applied(evse_id=target.evse_id, sent=False, accepted=False, detail=str(exc))
            if not needs_send(state.sent.get(compiled.profile_id), compiled, now):
                return Applied(evse_id=target.evse_id, sent=False, accepted=True, purpose=compiled.purpose.value)
            accepted, detail = await self._send(charger_id, compiled, now)
            if accepted:
                verdict = await self._read_back(charger_id, version, target, state.caps)
                return Applied(evse_id=target.evse_id, sent=True, accepted=True, purpose=compiled.purpose.value,
                               verdict=verdict, detail=detail)  # fmt: skip
            log.info("%s: %s refused (%s); trying the next rung", charger_id, compiled.purpose.value, detail)
            state.caps = state.caps.without(compiled.purpose)

    async def _send(self, charger_id: str, compiled: Compiled, now: datetime) -> tuple[bool, str]:
        outcome = await self._call(charger_id, "SetChargingProfile", compiled.payload)
        if not outcome.ok:
            return False, f"CallError {outcome.error_code}: {outcome.error_description or ''}".strip()
        status = (outcome.payload or {}).get("status")
        if status != "Accepted":
            return False, f"answered {status}"
        state = self._state(charger_id)
        state.sent[compiled.profile_id] = Sent(fingerprint=compiled.fingerprint, at=now, valid_to=compiled.valid_to)
        return True, "Accepted"

    async def _read_back(self, charger_id: str, version: OcppVersion, target: Target, caps: Capabilities) -> Verdict:
        request = composite_request(version, target.evse_id, READ_BACK_S, caps.unit())
        outcome = await self._try(charger_id, "GetCompositeSchedule", request)
        if not outcome.ok:
            return Verdict(ok=False, detail=f"GetCompositeSchedule: CallError {outcome.error_code}")
        return verify(version, target, outcome.payload or {}, horizon_s=READ_BACK_S)

    async def _try(self, charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome:
        return await self._call(charger_id, action, payload)
