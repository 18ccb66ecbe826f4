"""Evidence lines in the words the doctor shows: one observation, its time and its value."""

from __future__ import annotations

from chargewise.doctor.findings import Evidence
from chargewise.doctor.history import Span
from chargewise.doctor.signals import ClosedBy, RadioSample

_ENDINGS = {
    ClosedBy.CHARGER: "the charger closed it",
    ClosedBy.SERVER: "we closed it",
    ClosedBy.PING_TIMEOUT: "our ping went unanswered",
    ClosedBy.TRANSPORT: "it broke off without a close frame",
    ClosedBy.REPLACED: "a newer connection took over",
}


def seconds(value: float) -> str:
    """``95 s``, ``12 min``, ``3.5 h``: a duration a person reads at a glance."""
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def rssi(sample: RadioSample, what: str = "RSSI") -> Evidence:
    where = f" via {sample.bssid}" if sample.bssid else ""
    return Evidence(at=sample.at, what=what, value=f"{sample.rssi_dbm:.0f} dBm{where}")


def ending(span: Span) -> str:
    """How a connection ended, in words (``""`` for one still open)."""
    end = span.end
    if end is None:
        return ""
    how = _ENDINGS.get(end.closed_by, "it ended") if end.closed_by else "it ended"
    code = f", code {end.close_code}" if end.close_code is not None else ""
    detail = f" ({end.detail})" if end.detail else ""
    return f"{how}{code}{detail}"


def disconnect(span: Span, *, extra: str = "") -> Evidence:
    """The end of ``span`` as evidence: how it ended, how long it lasted, how quiet it was before."""
    assert span.end is not None, "only ended spans"
    lived = (span.end.at - span.start).total_seconds()
    quiet = f", silent for {seconds(span.silence_s)} before" if span.silence_s >= 1 else ""
    tail = f"; {extra}" if extra else ""
    return Evidence(at=span.end.at, what="disconnect", value=f"{ending(span)} after {seconds(lived)}{quiet}{tail}")
