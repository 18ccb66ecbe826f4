"""A site's live state as a document (JSON or TOML), for ``chargewise sites allocate`` and the scenario tests,
and an :class:`~chargewise.charging.state.Allocation` back as plain data. Documented in ``docs/sites.md``.

:func:`parse_state` raises :class:`~chargewise.charging.sitefile_values.SiteFileError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chargewise.charging.site import Mode, Site
from chargewise.charging.sitefile_values import SiteFileError, choice, flag, integer, known_keys, moment, number, table
from chargewise.charging.state import Allocation, EvseState, MeterReading, SiteState

STATE_KEYS = ("now", "meter", "evses")
METER_KEYS = ("phase_a", "power_w")
EVSE_KEYS = ("online", "session", "measured_a", "mode", "priority", "target_a", "energy_kwh", "departure",
             "car_phases")  # fmt: skip


def parse_state(raw: Mapping[str, Any], site: Site, path: str = "state") -> tuple[datetime, SiteState]:
    """``now`` and the :class:`SiteState` the document holds; EVSE ids must be the site's (``cp01/1``)."""
    known_keys(raw, STATE_KEYS, path)
    if "now" not in raw:
        raise SiteFileError(f"{path}.now: missing (the time of the state, e.g. 2026-12-02T10:00:00+01:00)")
    now = moment(raw["now"], f"{path}.now")
    evses = {}
    for evse_id, value in table(raw.get("evses", {}), f"{path}.evses").items():
        if evse_id not in site.evses:
            raise SiteFileError(f"{path}.evses.{evse_id}: not an EVSE of the site (use one of: "
                                f"{', '.join(sorted(site.evses))})")  # fmt: skip
        evses[evse_id] = _evse(table(value, f"{path}.evses.{evse_id}"), f"{path}.evses.{evse_id}")
    meter = _meter(table(raw["meter"], f"{path}.meter"), f"{path}.meter") if "meter" in raw else None
    return now, SiteState(evses=evses, meter=meter)


def _currents(value: Any, path: str) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        raise SiteFileError(f"{path}: {value!r} is not three currents (use [L1, L2, L3] in amps)")
    a, b, c = (number(v, f"{path}[{i}]", "a current in amps", strict=False) for i, v in enumerate(value))
    return (a, b, c)


def _meter(raw: Mapping[str, Any], path: str) -> MeterReading:
    known_keys(raw, METER_KEYS, path)
    power = raw.get("power_w")
    if power is not None and (isinstance(power, bool) or not isinstance(power, int | float)):
        raise SiteFileError(f"{path}.power_w: {power!r} is not a number (W, negative when exporting)")
    phase_a = _currents(raw["phase_a"], f"{path}.phase_a") if "phase_a" in raw else None
    return MeterReading(phase_a=phase_a, power_w=float(power) if power is not None else None)


def _evse(raw: Mapping[str, Any], path: str) -> EvseState:
    known_keys(raw, EVSE_KEYS, path)
    get = raw.get
    return EvseState(
        online=flag(get("online", True), f"{path}.online"),
        session=flag(get("session", False), f"{path}.session"),
        measured_a=_currents(raw["measured_a"], f"{path}.measured_a") if "measured_a" in raw else None,
        mode=Mode(choice(raw["mode"], f"{path}.mode", tuple(m.value for m in Mode))) if "mode" in raw else None,
        priority=integer(raw["priority"], f"{path}.priority") if "priority" in raw else None,
        target_a=number(raw["target_a"], f"{path}.target_a", "amps", strict=False) if "target_a" in raw else None,
        energy_kwh=number(raw["energy_kwh"], f"{path}.energy_kwh", "kWh", strict=False)
        if "energy_kwh" in raw
        else None,
        departure=moment(raw["departure"], f"{path}.departure") if "departure" in raw else None,
        car_phases=integer(raw["car_phases"], f"{path}.car_phases", (1, 3)) if "car_phases" in raw else None,
    )


def allocation_data(allocation: Allocation) -> dict[str, Any]:
    """The allocation as JSON-ready data: per EVSE its limit, phases, watts, cause, binding node and reason."""
    return {
        "at": allocation.at.isoformat(),
        "policy": allocation.policy.value,
        "evses": {
            evse_id: {
                "limit_a": lim.limit_a,
                "phases": lim.phases,
                "limit_w": lim.limit_w,
                "cause": lim.cause.value,
                "binding": lim.binding,
                "mode": lim.mode.value,
                "reason": lim.reason,
            }
            for evse_id, lim in allocation.limits.items()
        },
        "nodes": {
            n: {"phase_a": list(a), "power_w": allocation.node_w.get(n, 0.0)} for n, a in allocation.node_a.items()
        },
    }
