"""What chargers report besides transactions, version-neutral, and the ``ReportStore`` port that keeps it.

- Charging limits an external system (EMS, grid operator) put on an EVSE, and the EV's charging needs and
  own schedule (ISO 15118): the smart-charging engine plans within them.
- Charging profiles a charger reported (GetChargingProfiles): the engine verifies what it installed.
- Multi-part reports (charging profiles, monitoring, customer information, display messages), kept part by
  part and read back as one :class:`Report`.
- The last firmware-publication status per charger, and each reservation's end (expired or removed).

EVSE 0 is the charger as a whole (a limit without an EVSE). Times are timezone-aware UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import msgspec


class LimitSource(enum.StrEnum):
    """Who set a limit: an energy management system, a grid operator (SO), the charge-point operator."""

    EMS = "EMS"
    OTHER = "Other"
    SO = "SO"
    CSO = "CSO"


class RateUnit(enum.StrEnum):
    AMPERE = "A"
    WATT = "W"


@dataclass(frozen=True, kw_only=True, slots=True)
class SchedulePeriod:
    start_s: int  # seconds after the schedule's start
    limit: float  # in the schedule's rate unit
    phases: int | None = None
    phase_to_use: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargingSchedule:
    id: int
    rate_unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    start: datetime | None = None
    duration_s: int | None = None
    min_rate: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargingLimit:
    """An external limit on one EVSE (0: the whole charger), as the charger last reported it."""

    charger_id: str
    evse_id: int
    source: LimitSource
    schedules: tuple[ChargingSchedule, ...] = ()
    grid_critical: bool | None = None
    reported_at: datetime


class EnergyTransfer(enum.StrEnum):
    DC = "DC"
    AC_SINGLE_PHASE = "AC_single_phase"
    AC_TWO_PHASE = "AC_two_phase"
    AC_THREE_PHASE = "AC_three_phase"


@dataclass(frozen=True, kw_only=True, slots=True)
class EvChargingNeeds:
    """What the EV on an EVSE asked for (ISO 15118), the last time it asked."""

    charger_id: str
    evse_id: int
    transfer: EnergyTransfer
    departure_time: datetime | None = None
    energy_wh: float | None = None
    min_current_a: float | None = None
    max_current_a: float | None = None
    max_voltage_v: float | None = None
    max_power_w: float | None = None
    state_of_charge: int | None = None
    capacity_wh: float | None = None
    max_schedule_tuples: int | None = None
    reported_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class EvChargingSchedule:
    """The schedule the EV on an EVSE computed for itself; its periods count from ``time_base``."""

    charger_id: str
    evse_id: int
    time_base: datetime
    schedule: ChargingSchedule
    reported_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargingProfile:
    id: int
    stack_level: int
    purpose: str  # ChargingProfilePurpose, as the charger spelled it
    kind: str  # Absolute, Recurring, Relative
    schedules: tuple[ChargingSchedule, ...]
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportedProfile:
    evse_id: int
    source: LimitSource
    profile: ChargingProfile


@dataclass(frozen=True, kw_only=True, slots=True)
class Monitor:
    """One variable monitor of a monitoring report."""

    component: str
    variable: str
    id: int
    type: str  # MonitorEnum: UpperThreshold, Delta, Periodic, ...
    value: float
    severity: int
    transaction: bool
    component_instance: str | None = None
    evse_id: int | None = None
    variable_instance: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DisplayMessage:
    id: int
    priority: str
    content: str
    format: str
    language: str | None = None
    state: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    transaction_id: str | None = None


class ReportKind(enum.StrEnum):
    CHARGING_PROFILES = "ChargingProfiles"  # ReportChargingProfiles
    MONITORING = "Monitoring"  # NotifyMonitoringReport
    CUSTOMER_INFORMATION = "CustomerInformation"  # NotifyCustomerInformation
    DISPLAY_MESSAGES = "DisplayMessages"  # NotifyDisplayMessages

    @property
    def numbered(self) -> bool:
        """Whether the charger numbers the parts (seqNo); the others are numbered here, in arrival order."""
        return self in (ReportKind.MONITORING, ReportKind.CUSTOMER_INFORMATION)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportPart:
    """One message of a report; only the field of its kind is filled."""

    charger_id: str
    kind: ReportKind
    request_id: int
    seq_no: int
    tbc: bool  # "to be continued": more parts follow
    generated_at: datetime | None = None
    profiles: tuple[ReportedProfile, ...] = ()
    monitors: tuple[Monitor, ...] = ()
    messages: tuple[DisplayMessage, ...] = ()
    data: str = ""
    reported_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    """The parts of one request's report, by seqNo."""

    parts: tuple[ReportPart, ...]

    @property
    def complete(self) -> bool:
        """True once parts 0..n all arrived and part n said no more follow."""
        numbers = [part.seq_no for part in self.parts]
        return bool(self.parts) and numbers == list(range(len(numbers))) and not self.parts[-1].tbc

    @property
    def profiles(self) -> tuple[ReportedProfile, ...]:
        return tuple(item for part in self.parts for item in part.profiles)

    @property
    def monitors(self) -> tuple[Monitor, ...]:
        return tuple(item for part in self.parts for item in part.monitors)

    @property
    def messages(self) -> tuple[DisplayMessage, ...]:
        return tuple(item for part in self.parts for item in part.messages)

    @property
    def data(self) -> str:
        return "".join(part.data for part in self.parts)


def stored_size(record: object) -> int:
    """What a record costs in the store: the characters of its JSON (as ``SqlReportStore`` keeps it)."""
    return len(msgspec.json.encode(record).decode())


class PublicationStatus(enum.StrEnum):
    """A local controller publishing firmware to the chargers behind it (PublishFirmware)."""

    IDLE = "Idle"
    DOWNLOAD_SCHEDULED = "DownloadScheduled"
    DOWNLOADING = "Downloading"
    DOWNLOADED = "Downloaded"
    PUBLISHED = "Published"
    DOWNLOAD_FAILED = "DownloadFailed"
    DOWNLOAD_PAUSED = "DownloadPaused"
    INVALID_CHECKSUM = "InvalidChecksum"
    CHECKSUM_VERIFIED = "ChecksumVerified"
    PUBLISH_FAILED = "PublishFailed"


@dataclass(frozen=True, kw_only=True, slots=True)
class FirmwarePublication:
    charger_id: str
    status: PublicationStatus
    request_id: int | None = None
    locations: tuple[str, ...] = ()  # where the published firmware is served, once Published
    reported_at: datetime


class ReservationEnd(enum.StrEnum):
    EXPIRED = "Expired"
    REMOVED = "Removed"


@dataclass(frozen=True, kw_only=True, slots=True)
class ReservationUpdate:
    charger_id: str
    reservation_id: int
    status: ReservationEnd
    reported_at: datetime


class ReportStore(Protocol):
    """Keeps the latest of each record; every write returns once it is durable. Implementations:
    ``adapters.memory_reports.MemoryReportStore`` and ``adapters.sql.reports.SqlReportStore``."""

    async def put_charging_limit(self, limit: ChargingLimit) -> None:
        """Replace the limit of the same charger, EVSE and source."""
        ...

    async def clear_charging_limit(self, charger_id: str, evse_id: int, source: LimitSource) -> bool:
        """Remove that limit; False if there was none."""
        ...

    async def charging_limits(self, charger_id: str) -> list[ChargingLimit]:
        """By EVSE, then source."""
        ...

    async def put_ev_charging_needs(self, needs: EvChargingNeeds) -> None: ...

    async def ev_charging_needs(self, charger_id: str, evse_id: int) -> EvChargingNeeds | None: ...

    async def put_ev_charging_schedule(self, schedule: EvChargingSchedule) -> None: ...

    async def ev_charging_schedule(self, charger_id: str, evse_id: int) -> EvChargingSchedule | None: ...

    async def put_report_part(self, part: ReportPart, *, start_over: bool) -> None:
        """Store the part, replacing one of the same seqNo; ``start_over`` first drops the report's other parts."""
        ...

    async def last_report_part(self, charger_id: str, kind: ReportKind, request_id: int) -> ReportPart | None:
        """The part with the highest seqNo."""
        ...

    async def report(self, charger_id: str, kind: ReportKind, request_id: int) -> Report | None: ...

    async def report_sizes(self, charger_id: str, kind: ReportKind) -> dict[int, int]:
        """Request id -> the :func:`stored_size` of its parts, for every stored report of the charger and kind."""
        ...

    async def drop_report(self, charger_id: str, kind: ReportKind, request_id: int) -> None: ...

    async def put_firmware_publication(self, publication: FirmwarePublication) -> None: ...

    async def firmware_publication(self, charger_id: str) -> FirmwarePublication | None: ...

    async def put_reservation_update(self, update: ReservationUpdate, *, keep: int) -> None:
        """Store it, then keep only the charger's ``keep`` highest reservation ids."""
        ...

    async def reservation_update(self, charger_id: str, reservation_id: int) -> ReservationUpdate | None: ...
