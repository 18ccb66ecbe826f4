"""OpenADR 3 VEN client (``toadr3``): polls a VTN's programs and events, turns their intervals into
``DemandEvent``s for the demand-response service, and reports the opt state back.

Run ``OpenAdr3Ven(service, Ven3Settings(...))``: ``await ven.poll()`` once (tests, a reconcile loop), or
``ven.start()`` to poll every ``poll_seconds`` until ``await ven.stop()``. Credentials go through OAuth 2.0 client
credentials to ``token_url`` (OpenADR 3.0.1 API, ``/auth/token``); every call then carries the bearer token.

Mapping (OpenADR 3.0.1 Definitions, event payload types; each interval becomes one ``DemandEvent``):
- the node is each ``RESOURCE_NAME`` target value (a site node id); an event without one goes to
  ``default_node``, and with none configured it is opted out with that reason;
- ``IMPORT_CAPACITY_LIMIT`` -> ``Cap`` (the payload descriptor's units: KW, W or MW; KW when none is given);
- ``PRICE`` -> ``Price`` (per kWh, the descriptor's currency); ``SIMPLE`` level 1/2/3 -> ``Shed`` as in the
  2.0b VEN, level 0 caps nothing; other payload types in an interval are ignored, and an event with nothing
  usable is opted out.
- intervals without their own ``intervalPeriod`` follow each other from the event's (or program's) period.
- an event the VTN no longer lists is cancelled here.

Opt state: OpenADR 3.0 has no opt object for a VEN; we POST one report per answered event (to ``/reports``,
``clientName`` = ours) whose payload is the private type ``OPT`` with values ``[optIn|optOut, reason]``, one
``resource`` per node. Turn it off with ``report_opt=False``. Webhook subscriptions are not used (polling only).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import aiohttp
import toadr3
from toadr3.models import Event, Interval, IntervalPeriod, Program, Report, ReportData, ValuesMap

from chargewise.charging.demand import SIMPLE_SHED, Cap, DemandError, DemandEvent, Opt, Price, Shed, Signal
from chargewise.services.demand_response import DemandResponse

log = logging.getLogger(__name__)
T = TypeVar("T")

OPT_PAYLOAD = "OPT"  # private report payload type (3.0 defines none for opt state)
PAGE = 50  # the 3.0.1 API's maximum ``limit``
_KW_PER_UNIT = {"KW": 1.0, "W": 0.001, "MW": 1000.0}


@dataclass(frozen=True, kw_only=True)
class Ven3Settings:
    """Where the VTN is and who we are. Without ``token_url`` no token is asked for (a test or open VTN)."""

    vtn_url: str
    client_name: str
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scope: str = "read_all write_reports"
    programs: tuple[str, ...] = ()  # program names to follow; empty: all
    default_node: str | None = None
    simple_shed: Mapping[int, float] = field(default_factory=lambda: dict(SIMPLE_SHED))
    report_opt: bool = True
    poll_seconds: float = 30.0
    timeout_seconds: float = 10.0


def map_event(
    event: Event, program: Program | None, default_node: str | None, simple_shed: Mapping[int, float]
) -> list[DemandEvent]:
    """The ``DemandEvent``s of one OpenADR 3 event, or ``DemandError`` saying why it cannot be used."""
    origin = str(event.id)
    nodes = _nodes(event, default_node)
    descriptors = {
        one.payload_type: one for one in [*(program_descriptors(program)), *(event.payload_descriptors or [])]
    }
    period = event.interval_period or (program.interval_period if program else None)
    found: list[DemandEvent] = []
    cursor = _start(period)
    for interval in event.intervals:
        own = interval.interval_period or period
        if own is None:
            raise DemandError(f"event {origin}: interval {interval.id}: no intervalPeriod here or on the event")
        start = _start(own) if interval.interval_period else cursor
        if start is None:
            raise DemandError(f"event {origin}: interval {interval.id}: start is unspecified; give a dateTime")
        end = start + own.duration
        cursor = end
        if own.duration <= timedelta(0):
            raise DemandError(f"event {origin}: interval {interval.id}: duration {own.duration}; give one above zero")
        for payload in interval.payloads:
            signal = _signal(payload, descriptors, simple_shed, origin)
            if signal is None:
                continue
            for node in nodes:
                found.append(
                    DemandEvent(
                        id=f"{origin}/{node}/{interval.id}/{payload.type}",
                        source="openadr3",
                        start=start,
                        end=end,
                        node=node,
                        signal=signal,
                        origin=origin,
                        modification=int(event.modification_date_time.timestamp())
                        if event.modification_date_time
                        else 0,
                    )
                )
    return found


def program_descriptors(program: Program | None) -> list[toadr3.models.EventPayloadDescriptor]:
    """The event payload descriptors a program gives its events (units and currency by payload type)."""
    if program is None:
        return []
    kinds = toadr3.models.EventPayloadDescriptor
    return [one for one in program.payload_descriptors or [] if isinstance(one, kinds)]


def _start(period: IntervalPeriod | None) -> datetime | None:
    if period is None or isinstance(period.start, str):
        return None
    return period.start


def _resource_names(event: Event) -> list[str]:
    return [str(value) for target in event.targets or [] if target.type == "RESOURCE_NAME" for value in target.values]


def _named_nodes(event: Event) -> list[str]:
    # The resources a report names; a report about none in particular is an aggregate (3.0.1 reportData).
    return _resource_names(event) or ["AGGREGATED_REPORT"]


def _nodes(event: Event, default_node: str | None) -> list[str]:
    if nodes := _resource_names(event):
        return nodes
    if default_node is None:
        raise DemandError(f"event {event.id}: targets: no RESOURCE_NAME and no default node; set a default_node")
    return [default_node]


def _signal(
    payload: ValuesMap,
    descriptors: Mapping[str, toadr3.models.EventPayloadDescriptor],
    simple_shed: Mapping[int, float],
    origin: str,
) -> Signal | None:
    if not payload.values or isinstance(payload.values[0], (str, toadr3.models.valuesmap.Point)):
        return None
    value = float(payload.values[0])
    descriptor = descriptors.get(payload.type)
    if payload.type == "IMPORT_CAPACITY_LIMIT":
        units = ((descriptor.units if descriptor else None) or "KW").upper()
        if units not in _KW_PER_UNIT:
            raise DemandError(f"event {origin}: IMPORT_CAPACITY_LIMIT units {units}; send KW, W or MW")
        return Cap(kw=value * _KW_PER_UNIT[units])
    if payload.type == "PRICE":
        return Price(per_kwh=value, currency=(descriptor.currency if descriptor else None) or "")
    if payload.type == "SIMPLE":
        level = int(value)
        if level == 0:
            return None
        if level not in simple_shed:
            raise DemandError(f"event {origin}: SIMPLE level {level}: no shed configured; use 0-3")
        return Shed(fraction=simple_shed[level])
    return None


class OpenAdr3Ven:
    """One VEN polling one VTN. Pass ``session`` to share an aiohttp session; otherwise it makes its own."""

    def __init__(self, service: DemandResponse, settings: Ven3Settings, session: aiohttp.ClientSession | None = None):
        self._service = service
        self._settings = settings
        self._own_session = session is None
        timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
        self._session = session or aiohttp.ClientSession(timeout=timeout)
        oauth = None
        if settings.token_url:
            oauth = toadr3.OAuthConfig(
                token_url=settings.token_url,
                grant_type="client_credentials",
                claims={"scope": settings.scope},
                client_id=settings.client_id,
                client_secret=settings.client_secret,
            )
        self._client = toadr3.ToadrClient(settings.vtn_url, oauth, session=self._session)
        self._seen: dict[str, datetime | None] = {}  # event id -> modificationDateTime we answered
        self.refused: dict[str, str] = {}  # event id -> why it was opted out
        self.reports: list[Report] = []  # opt reports the VTN accepted, newest last
        self._task: asyncio.Task[None] | None = None

    async def poll(self) -> list[str]:
        """Fetch programs and events once; answer new or changed events and cancel vanished ones. Returns the ids
        of the events answered this time. Raises ``toadr3.ToadrError`` (the VTN refused) or ``aiohttp.ClientError``."""
        programs = {program.id: program for program in await self._pages(self._client.get_programs)}
        wanted = {
            pid
            for pid, program in programs.items()
            if not self._settings.programs or program.program_name in self._settings.programs
        }
        events = [event for event in await self._pages(self._client.get_events) if event.program_id in wanted]
        answered = [str(event.id) for event in events if await self._consider(event, programs.get(event.program_id))]
        listed = {str(event.id) for event in events}
        for gone in [event_id for event_id in self._seen if event_id not in listed]:
            del self._seen[gone]
            await self._service.cancel(gone)
        return answered

    async def _pages(self, fetch: Callable[..., Awaitable[list[T]]]) -> list[T]:
        # The API pages at most 50 records per call (3.0.1 ``limit`` maximum): read until a short page.
        found: list[T] = []
        while True:
            page = await fetch(skip=len(found), limit=PAGE)
            found.extend(page)
            if len(page) < PAGE:
                return found

    async def _consider(self, event: Event, program: Program | None) -> bool:
        event_id = str(event.id)
        if event_id in self._seen and self._seen[event_id] == event.modification_date_time:
            return False
        self._seen[event_id] = event.modification_date_time
        try:
            mapped = map_event(event, program, self._settings.default_node, self._settings.simple_shed)
            if not mapped:
                raise DemandError(f"event {event_id}: no IMPORT_CAPACITY_LIMIT, PRICE or SIMPLE payload to act on")
            answer = await self._service.receive(mapped)
            nodes = sorted({one.node for one in mapped})
        except DemandError as error:
            answer, nodes = Opt(kind="optOut", by="policy", reason=str(error)), _named_nodes(event)
        if answer.kind == "optOut":
            log.warning("openadr3: opting out of %s: %s", event_id, answer.reason)
            self.refused[event_id] = answer.reason
        if self._settings.report_opt:
            await self._report(event, answer, nodes)
        return True

    async def _report(self, event: Event, answer: Opt, nodes: Sequence[str]) -> None:
        report = Report(
            programID=event.program_id,
            eventID=str(event.id),
            clientName=self._settings.client_name,
            report_name=f"opt {answer.kind}",
            resources=[
                ReportData(
                    resource_name=node,
                    intervals=[
                        Interval(id=0, payloads=[ValuesMap(type=OPT_PAYLOAD, values=[answer.kind, answer.reason])])
                    ],
                )
                for node in nodes
            ],
        )
        self.reports.append(await self._client.post_report(report))

    def start(self) -> None:
        """Poll every ``poll_seconds`` in a task until ``stop``; a failed poll is logged and retried next time."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
            except (toadr3.ToadrError, aiohttp.ClientError, TimeoutError, ValueError) as error:  # ValueError: pydantic
                log.warning("openadr3: poll of %s failed: %s", self._settings.vtn_url, error)
            await asyncio.sleep(self._settings.poll_seconds)

    async def stop(self) -> None:
        """Stop polling and close the session if it is ours."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._own_session:
            await self._session.close()
