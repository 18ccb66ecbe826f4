"""RF path physics for a Wi-Fi charger: link budget -> RSSI -> what the link does (latency, drops).

Link budget (connectivity.md 1.1, COST 231 multi-wall with free-space exponent n = 2)::

    RSSI = EIRP - PL(1 m) - 20 log10(d) - sum(wall losses) - floors - car - enclosure + fading

- ``PL(1 m)``: 40.2 / 47.3 / 48.7 dB at 2.4 / 5 / 6 GHz.
- Wall losses: the suggested per-crossing defaults of connectivity.md 1.3 (P.2040-derived, corrected by
  measurements).
- Car: 3GPP TR 37.885 vehicle blockage, normal in dB: 9 dB (sigma 4.5) when both antennas are below the
  roofline (about 1.6 m), 5 dB (sigma 4) when the AP is above it (connectivity.md 1.4).

What the link does with a given RSSI is a calibrated model, not a PHY simulation. Anchors (connectivity.md
1.5): -67 dBm weak, -70 minimum viable, -75 critical, -80 unreliable (MicroOcpp#337: an OCPP disconnect after
about 15 s at -80). TCP hides single lost frames, so loss shows up as latency (MAC retries, and TCP
retransmissions of at least 200 ms), and sustained loss as a dropped association:

- mean time between drops: ``log10(seconds) = 1.8 + 0.32 (RSSI + 80)``, clipped to 1 s .. 10^6 s
  (about a minute at -80, an hour at -75, a day at -70);
- latency: 3 ms, plus ``2 ms x 10^((-67 - RSSI) / 10)`` below -67 dBm; a TCP retransmission (+200 ms)
  with probability ``1 / (1 + e^((RSSI + 82) / 2))``;
- association fails below -88 dBm (a few dB over HT20 MCS0 sensitivity once noise is counted).
"""

from __future__ import annotations

import math
from typing import Protocol

from chargewise.doctor.materials import (
    CAR_BOTH_BELOW_DB,
    CAR_ONE_ABOVE_DB,
    WALL_LOSS_DB,
    band_of,
    free_space_db,
)
from chargewise.doctor.materials import (
    CRITICAL_DBM as CRITICAL_DBM,  # re-exported for the dialects: the WeakSignal alarm level (§1.5)
)


class Random(Protocol):
    def random(self) -> float: ...

    def gauss(self, mu: float, sigma: float) -> float: ...


# The loss tables are the doctor's (one table for the planner and the simulator): free-space loss at 1 m,
# per-crossing wall losses (connectivity.md §1.3 suggested defaults) and TR 37.885 car blockage (§1.4).
CAR_LOSS_DB = {"below-roofline": CAR_BOTH_BELOW_DB, "ap-above-roofline": CAR_ONE_ABOVE_DB}  # (mean, sigma)
WEAK_DBM = -67.0
RECOVERED_DBM = -72.0  # back above this: the alarm clears (3 dB hysteresis)
ASSOCIATION_FLOOR_DBM = -88.0


def path_loss_db(distance_m: float, walls: tuple[str, ...], band_ghz: float = 2.4) -> float:
    """Free-space loss over ``distance_m`` (n = 2) plus each wall crossed."""
    band = band_of(band_ghz)
    try:
        walls_db = sum(WALL_LOSS_DB[w][band.slot] for w in walls)
    except KeyError as exc:
        raise ValueError(f"unknown wall material {exc.args[0]!r}; known: {', '.join(WALL_LOSS_DB)}") from None
    return free_space_db(distance_m, band) + walls_db


def car_loss_db(rng: Random, *, ap_above_roofline: bool) -> float:
    """One draw of the extra loss of a car parked in the path (never negative)."""
    mean, sigma = CAR_LOSS_DB["ap-above-roofline" if ap_above_roofline else "below-roofline"]
    return max(0.0, rng.gauss(mean, sigma))


def mean_time_between_drops_s(rssi_dbm: float) -> float:
    """Mean seconds between association drops at this RSSI (see the module notes)."""
    exponent: float = min(6.0, max(0.0, 1.8 + 0.32 * (rssi_dbm + 80.0)))
    return math.pow(10.0, exponent)


def drop_probability(rssi_dbm: float, seconds: float) -> float:
    """Probability that the association drops within ``seconds`` at a steady RSSI (Poisson)."""
    return 1.0 - math.exp(-seconds / mean_time_between_drops_s(rssi_dbm))


def latency_s(rssi_dbm: float, rng: Random) -> float:
    """One frame's one-way delay at this RSSI, MAC retries and an occasional TCP retransmission included."""
    base = 0.003 + (0.002 * 10.0 ** ((WEAK_DBM - rssi_dbm) / 10.0) if rssi_dbm < WEAK_DBM else 0.0)
    retransmit = 1.0 / (1.0 + math.exp((rssi_dbm + 82.0) / 2.0))
    return min(2.0, base + (0.2 if rng.random() < retransmit else 0.0))


def can_associate(rssi_dbm: float) -> bool:
    return rssi_dbm >= ASSOCIATION_FLOOR_DBM
