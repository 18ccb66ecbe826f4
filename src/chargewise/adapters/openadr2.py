"""OpenADR 2.0b VEN: registers with a VTN (``openleadr``), turns each EiEvent into ``DemandEvent``s, and answers
optIn/optOut as the demand-response service decides.

Start one per VTN with ``OpenAdr2Ven(service, Ven2Settings(...))`` and ``await ven.start()``; ``await ven.stop()``
before the loop closes. openleadr does the protocol: oadrQueryRegistration / oadrCreatePartyRegistration, oadrPoll
at the frequency the VTN asks for, oadrCreatedEvent with our answer for every new, modified or cancelled event.

Mapping (OpenADR 2.0b profile specification, 8.1 EiEvent signals; each interval becomes one ``DemandEvent``):
- the node is each ``resource_id`` target (a site node id); an event aimed only at the VEN goes to
  ``default_node``, and with none configured it is opted out with that reason;
- ``SIMPLE`` level 1/2/3 -> ``Shed`` of the node's limit, fractions from ``simple_shed`` (the program defines
  what a level means; ours are settings); level 0 is normal operation and caps nothing;
- ``LOAD_DISPATCH`` ``setpoint`` -> ``Cap`` (in kW; a ``powerReal`` item base with its SI scale is converted);
- ``LOAD_CONTROL`` ``x-loadControlSetpoint`` -> ``Cap``; ``x-loadControlCapacity`` (the fraction of capacity the
  load may use) -> ``Shed`` of ``1 - value``;
- ``ELECTRICITY_PRICE`` / ``ENERGY_PRICE`` ``price`` -> ``Price``;
- any other signal is refused: optOut, with the reason kept in ``refused``.
An operator's later change (``DemandResponse.set_opt``) is sent to the VTN as an unsolicited oadrCreatedEvent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from openleadr import OpenADRClient, utils

from chargewise.charging.demand import SIMPLE_SHED, Cap, DemandError, DemandEvent, Price, Shed, Signal, Status
from chargewise.services.demand_response import DemandResponse

log = logging.getLogger(__name__)

# SI scale codes of an item base (OpenADR 2.0b siScaleCode) as powers of ten.
_SCALE = {"p": -12, "n": -9, "micro": -6, "m": -3, "c": -2, "d": -1, "none": 0, "k": 3, "M": 6, "G": 9, "T": 12}
_PRICE_SIGNALS = ("ELECTRICITY_PRICE", "ENERGY_PRICE")


class OpenAdr2Error(Exception):
    """The VEN could not start; the message says why and what to check."""


@dataclass(frozen=True, kw_only=True)
class Ven2Settings:
    """Where the VTN is and how we present ourselves. ``cert``/``key`` sign messages (None: unsigned);
    ``vtn_fingerprint`` checks the VTN's signatures."""

    vtn_url: str
    ven_name: str
    ven_id: str | None = None
    default_node: str | None = None
    simple_shed: Mapping[int, float] = field(default_factory=lambda: dict(SIMPLE_SHED))
    cert: str | None = None
    key: str | None = None
    ca_file: str | None = None
    vtn_fingerprint: str | None = None


def map_event(
    event: Mapping[str, Any], default_node: str | None, simple_shed: Mapping[int, float]
) -> list[DemandEvent]:
    """The ``DemandEvent``s of one openleadr event dict, or ``DemandError`` saying why it cannot be used."""
    descriptor = event["event_descriptor"]
    origin = str(descriptor["event_id"])
    nodes = _nodes(event, default_node, origin)
    period = event.get("active_period") or {}
    near = period.get("ramp_up_period") or period.get("notification_period") or timedelta(0)
    status: Status = descriptor.get("event_status", "far")
    found: list[DemandEvent] = []
    for index, one in enumerate(event.get("event_signals") or []):
        for interval in one.get("intervals") or []:
            signal = _signal(one, interval["signal_payload"], simple_shed, origin)
            if signal is None:
                continue
            start: datetime = interval["dtstart"]
            for node in nodes:
                found.append(
                    DemandEvent(
                        id=f"{origin}/{node}/{index}/{interval.get('uid', 0)}",
                        source="openadr2",
                        start=start,
                        end=start + interval["duration"],
                        node=node,
                        signal=signal,
                        status=status,
                        origin=origin,
                        modification=int(descriptor.get("modification_number", 0)),
                        near_before=near,
                    )
                )
    return found


def _nodes(event: Mapping[str, Any], default_node: str | None, origin: str) -> list[str]:
    targets = event.get("targets_by_type") or {}
    resources = [str(one) for one in targets.get("resource_id", [])]
    if resources:
        return resources
    if default_node is None:
        raise DemandError(f"event {origin}: targets: no resource_id and no default node; set Ven2Settings.default_node")
    return [default_node]


def _signal(one: Mapping[str, Any], payload: float, simple_shed: Mapping[int, float], origin: str) -> Signal | None:
    name, kind = one.get("signal_name"), one.get("signal_type")
    if name in ("SIMPLE", "simple"):
        level = int(payload)
        if level == 0:
            return None
        if level not in simple_shed:
            raise DemandError(f"event {origin}: SIMPLE level {level}: no shed configured; use 0-3")
        return Shed(fraction=simple_shed[level])
    if (name, kind) in (("LOAD_DISPATCH", "setpoint"), ("LOAD_CONTROL", "x-loadControlSetpoint")):
        return Cap(kw=float(payload) * _to_kw(one.get("measurement"), origin))
    if (name, kind) == ("LOAD_CONTROL", "x-loadControlCapacity"):
        return Shed(fraction=1.0 - float(payload))
    if name in _PRICE_SIGNALS and kind == "price":
        return Price(per_kwh=float(payload))
    raise DemandError(
        f"event {origin}: signal {name}/{kind} is not supported; send SIMPLE, LOAD_DISPATCH setpoint, "
        "LOAD_CONTROL or a price"
    )


def _to_kw(measurement: Mapping[str, Any] | None, origin: str) -> float:
    if not measurement:
        return 1.0  # no item base: the program's unit, which we take to be kW
    unit, scale = str(measurement.get("unit", "W")), str(measurement.get("scale") or "none")
    if unit != "W" or scale not in _SCALE:
        raise DemandError(
            f"event {origin}: item base {unit} (scale {scale}) is not a real power; send W with an SI scale"
        )
    return float(10 ** (_SCALE[scale] - 3))


class OpenAdr2Ven:
    """One VEN registered with one VTN, feeding ``service``."""

    def __init__(self, service: DemandResponse, settings: Ven2Settings) -> None:
        self._service = service
        self._settings = settings
        self.refused: dict[str, str] = {}  # source event id -> why it was opted out before reaching the service
        self._tasks: set[asyncio.Task[None]] = set()
        self._client = OpenADRClient(
            ven_name=settings.ven_name,
            vtn_url=settings.vtn_url,
            ven_id=settings.ven_id,
            cert=settings.cert,
            key=settings.key,
            ca_file=settings.ca_file,
            vtn_fingerprint=settings.vtn_fingerprint,
            disable_signature=settings.cert is None,
            show_fingerprint=False,
        )
        self._client.add_handler("on_event", self._on_event)
        self._client.add_handler("on_update_event", self._on_event)
        service.subscribe(self._on_change)

    @property
    def ven_id(self) -> str | None:
        """The id the VTN gave us at registration (None before)."""
        return self._client.ven_id  # type: ignore[no-any-return]

    async def start(self) -> None:
        """Register, fetch the VTN's current events, and poll from now on (openleadr's scheduler). Raises
        ``OpenAdr2Error`` if the VTN did not register us (unreachable, refused, or an invalid answer)."""
        await self._client.run()
        if self._client.registration_id is None:
            raise OpenAdr2Error(
                f"VTN {self._settings.vtn_url} did not register VEN {self._settings.ven_name!r} (unreachable or "
                "refused, see the log); check the URL, the certificates and that the VTN knows this VEN"
            )

    async def stop(self) -> None:
        """Stop polling, finish sending operator changes, and close the HTTP session."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.stop()

    async def _on_event(self, event: dict[str, Any]) -> str:
        # Called by openleadr for a new or changed event; the return value is our oadrCreatedEvent opt type.
        descriptor = event["event_descriptor"]
        origin = str(descriptor["event_id"])
        if descriptor.get("event_status") == "cancelled":
            held = await self._service.cancel(origin)
            return next((one.opt.kind for one in held if one.opt is not None), "optIn")
        try:
            events = map_event(event, self._settings.default_node, self._settings.simple_shed)
            if not events:
                return "optIn"  # only SIMPLE level 0 (normal operation): nothing to do, nothing to refuse
            answer = await self._service.receive(events)
        except DemandError as error:
            log.warning("openadr2: opting out of %s: %s", origin, error)
            self.refused[origin] = str(error)
            return "optOut"
        if answer.kind == "optOut":
            self.refused[origin] = answer.reason
        return answer.kind

    def _on_change(self, event: DemandEvent) -> None:
        # An operator changed the opt of one of our events: tell the VTN (the policy's answers went already).
        if event.source != "openadr2" or event.opt is None or event.opt.by == "policy" or event.status == "cancelled":
            return
        sent = self._client.responded_events.get(event.origin)
        if sent is None or sent == event.opt.kind:
            return  # not an event this VTN sent us (another VEN's), or the VTN has this answer already
        self._client.responded_events[event.origin] = event.opt.kind
        task = asyncio.get_running_loop().create_task(
            self._client.created_event(
                request_id=utils.generate_id(),
                event_id=event.origin,
                opt_type=event.opt.kind,
                modification_number=event.modification,
            )
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
