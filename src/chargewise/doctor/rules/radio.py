"""Rules on the radio: weak signal, a car in the path, a sticky mesh client (connectivity.md 1.4, 1.5, 3 A-B).

Each rule reads the RSSI reports (2.0.1 DataLink.SignalStrength, 1.6 vendor DataTransfer, WeakSignal
StatusNotifications) and the connector statuses (a car at the charger), and returns a finding or None.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from chargewise.doctor import thresholds as th
from chargewise.doctor.advice import finding
from chargewise.doctor.evidence import disconnect, rssi
from chargewise.doctor.findings import Cause, Evidence, Finding
from chargewise.doctor.history import Context, Span
from chargewise.doctor.signals import ClosedBy, RadioSample


def samples(ctx: Context) -> list[RadioSample]:
    return sorted(ctx.signals.radio, key=lambda s: s.at)


def weak_reports(ctx: Context) -> list[Evidence]:
    """StatusNotification errorCode WeakSignal (1.6 2.1: "Wireless communication device reports a weak signal")."""
    return [
        Evidence(at=s.at, what="status WeakSignal", value=s.info or "the charger reports a weak signal")
        for s in ctx.signals.statuses
        if s.error_code == "WeakSignal"
    ]


def lost(ctx: Context) -> list[Span]:
    """Connections that ended without a close frame (the ones a radio loses)."""
    return [
        s for s in ctx.ended if s.end is not None and s.end.closed_by in (ClosedBy.TRANSPORT, ClosedBy.PING_TIMEOUT)
    ]


def _longest_run_below(series: Sequence[RadioSample], level: float) -> int:
    run = best = 0
    for s in series:
        run = run + 1 if s.rssi_dbm < level else 0
        best = max(best, run)
    return best


def _rssi_before(series: Sequence[RadioSample], span: Span) -> float | None:
    assert span.end is not None
    before = [s.rssi_dbm for s in series if s.at <= span.end.at]
    return before[-1] if before else None


def weak_signal(ctx: Context) -> Finding | None:
    """RSSI under -75 dBm sustained (1.5 alarm rule), WeakSignal reports, drops without a close frame."""
    series = samples(ctx)
    free = [s for s in series if not ctx.car_at(s.at)]
    base = free if len(free) >= th.SUSTAINED_SAMPLES else series  # a car's loss is vehicle_obstruction's
    reports = weak_reports(ctx)
    if len(base) < th.SUSTAINED_SAMPLES:
        if len(reports) < 2:
            return None
        return finding(
            Cause.WEAK_SIGNAL,
            0.45 + 0.05 * min(4, len(reports)),
            f"The charger reported a weak Wi-Fi signal {len(reports)} times.",
            reports[:6],
        )
    median = statistics.median(s.rssi_dbm for s in base)
    share = sum(s.rssi_dbm < th.CRITICAL_DBM for s in base) / len(base)
    mostly = share >= th.WEAK_SHARE or median < th.CRITICAL_DBM
    drops = [s for s in lost(ctx) if (r := _rssi_before(series, s)) is not None and r < th.VIABLE_DBM]
    # sustained under -75 dBm, and either most of the time or with the drops it causes (weak spells)
    if _longest_run_below(base, th.CRITICAL_DBM) < th.SUSTAINED_SAMPLES or not (mostly or len(drops) >= 2):
        return None
    confidence = (0.55 if mostly else 0.45) + (0.1 if median < th.UNRELIABLE_DBM else 0.0)
    confidence += min(0.2, 0.07 * len(drops))
    confidence += 0.05 if reports else 0.0
    worst = sorted(base, key=lambda s: s.rssi_dbm)[:3]
    evidence = [*(rssi(s) for s in worst), *(disconnect(s) for s in drops[:4]), *reports[:2]]
    summary = (
        f"Weak Wi-Fi: the charger's signal is {median:.0f} dBm (median of {len(base)} reports, "
        f"{share:.0%} below {th.CRITICAL_DBM:.0f} dBm)" + (f", with {len(drops)} drops." if drops else ".")
    )
    return finding(Cause.WEAK_SIGNAL, confidence, summary, evidence)


def vehicle_obstruction(ctx: Context) -> Finding | None:
    """RSSI steps down 5-15 dB while a car is at the charger and recovers when it leaves (0.3, 1.4)."""
    series = samples(ctx)
    car = [s for s in series if ctx.car_at(s.at)]
    free = [s for s in series if not ctx.car_at(s.at)]
    if len(car) < 2 or len(free) < 2 or _main_bssid(car) != _main_bssid(free):
        return None
    with_car, without = statistics.median(s.rssi_dbm for s in car), statistics.median(s.rssi_dbm for s in free)
    step = without - with_car
    reports = [e for e in weak_reports(ctx) if e.at is not None and ctx.car_at(e.at)]
    in_sessions = [s for s in lost(ctx) if s.end is not None and ctx.car_at(s.end.at)]
    harmful = with_car < th.VIABLE_DBM or reports or in_sessions
    if not th.CAR_STEP_MIN_DB <= step <= th.CAR_STEP_MAX_DB or not harmful:
        return None
    stepped = _session_steps(ctx, series)
    drops = lost(ctx)
    car_share = _car_share(ctx)
    clustered = bool(drops) and len(in_sessions) / len(drops) > max(0.5, car_share)
    confidence = 0.6 + min(0.15, 0.05 * len(stepped)) + (0.1 if clustered else 0.0) + (0.05 if reports else 0.0)
    evidence = [*stepped[:4], *(disconnect(s, extra="a car was parked") for s in in_sessions[:3]), *reports[:2]]
    # the medians are the finding's ground: always shown (a noisy report just before each arrival can leave no
    # single parking with a clear step, while the medians over all reports still differ by the step)
    medians = f"median {with_car:.0f} dBm in {len(car)} reports with a car, {without:.0f} dBm in {len(free)} without"
    evidence.append(Evidence(at=None, what="RSSI with and without a car", value=medians))
    summary = (
        f"A parked car blocks the Wi-Fi: {without:.0f} dBm without a car, {with_car:.0f} dBm with one "
        f"({step:.0f} dB less)" + (f"; {len(in_sessions)} of {len(drops)} drops during charging." if drops else ".")
    )
    return finding(Cause.VEHICLE_OBSTRUCTION, confidence, summary, evidence)


def _main_bssid(series: Sequence[RadioSample]) -> str | None:
    found = Counter(s.bssid for s in series if s.bssid)
    return found.most_common(1)[0][0] if found else None


def _car_share(ctx: Context) -> float:
    """The share of the window a car was at the charger."""
    window = (ctx.now - ctx.signals.since).total_seconds()
    parked = sum((b - a).total_seconds() for a, b in ctx.car)
    return parked / window if window > 0 else 0.0


def _session_steps(ctx: Context, series: Sequence[RadioSample]) -> list[Evidence]:
    """Per parking: the last report before the car came, the first with it, and the first after it left."""
    out = []
    for arrived, left in ctx.car:
        before = [s for s in series if s.at < arrived]
        during = [s for s in series if arrived <= s.at < left]
        after = [s for s in series if s.at >= left]
        if not before or not during:
            continue
        drop = before[-1].rssi_dbm - statistics.median(s.rssi_dbm for s in during)
        if drop < th.CAR_STEP_MIN_DB:
            continue
        back = f", back to {after[0].rssi_dbm:.0f} dBm when it left" if after else ""
        value = f"{before[-1].rssi_dbm:.0f} dBm before, {statistics.median(s.rssi_dbm for s in during):.0f} dBm{back}"
        out.append(Evidence(at=arrived, what="car arrived", value=value))
    return out


def sticky_client(ctx: Context) -> Finding | None:
    """RSSI drops sharply and stays low (often on another BSSID) until a reboot (3 B)."""
    series = samples(ctx)
    shift = _level_shift(ctx, series)
    if shift is None:
        return None
    i, j = shift
    before, run = series[max(0, i - 3) : i], series[i:j]
    good, low = statistics.median(s.rssi_dbm for s in before), statistics.median(s.rssi_dbm for s in run)
    moved = _main_bssid(before) is not None and _main_bssid(run) not in (None, _main_bssid(before))
    rebooted = j < len(series) and any(run[-1].at <= t <= series[j].at for t in _boot_times(ctx))
    if j < len(series) and not rebooted:
        confidence = 0.35  # it came back by itself: roaming, not a sticky client
    else:
        confidence = 0.55 + (0.15 if moved else 0.0) + (0.15 if rebooted else 0.0)
    drops = [s for s in lost(ctx) if s.end is not None and run[0].at <= s.end.at <= run[-1].at]
    confidence += 0.05 if drops else 0.0
    evidence = [rssi(before[-1], "RSSI before"), rssi(run[0], "RSSI dropped"), rssi(run[-1], "RSSI still low")]
    if rebooted:
        evidence.append(rssi(series[j], "RSSI after the reboot"))
    evidence += [disconnect(s) for s in drops[:3]]
    where = f" and moved from {_main_bssid(before)} to {_main_bssid(run)}" if moved else ""
    summary = f"The charger stays on a far access point: its signal fell from {good:.0f} to {low:.0f} dBm{where}" + (
        " until it was restarted." if rebooted else " and has stayed there."
    )
    return finding(Cause.STICKY_CLIENT, confidence, summary, evidence)


def _boot_times(ctx: Context) -> list[datetime]:
    """BootNotifications, and the 1.6 security events that stand for them (StartupOfTheDevice, ResetOrReboot)."""
    events = [e.at for e in ctx.signals.security_events if e.type in ("StartupOfTheDevice", "ResetOrReboot")]
    return [b.at for b in ctx.signals.boots] + events


def _level_shift(ctx: Context, series: Sequence[RadioSample]) -> tuple[int, int] | None:
    """The first run ``series[i:j]`` sitting STICKY_STEP_DB under the reports before it, not due to a car."""
    n = len(series)
    for i in range(1, n):
        level = statistics.median(s.rssi_dbm for s in series[max(0, i - 3) : i])
        if level < th.VIABLE_DBM or series[i].rssi_dbm > level - th.STICKY_STEP_DB:
            continue
        j = i
        while j < n and series[j].rssi_dbm <= level - th.STICKY_STEP_DB / 2:
            j += 1
        run = series[i:j]
        low = statistics.median(s.rssi_dbm for s in run)
        by_car = ctx.car_at(series[i].at) and not ctx.car_at(series[i - 1].at)  # it stepped down at plug-in
        if len(run) >= th.STICKY_MIN_SAMPLES and low < th.VIABLE_DBM and not by_car:
            return i, j
    return None
