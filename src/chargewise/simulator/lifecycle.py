"""The charger's lifecycle: the phases it goes through and how long it waits before reconnecting.

Rules:

1. Phases: OFF -> (power on) OFFLINE -> (connected) BOOTING -> (BootNotification Accepted) ACCEPTED; a
   lost connection goes back to OFFLINE, a reset or firmware install to REBOOTING and then OFFLINE. A
   reconnection skips BOOTING when the charger is still registered (unless the template's
   ``boot_on_reconnect`` quirk says otherwise).
2. Nothing but BootNotification (and answers to the CSMS) is sent before Accepted (1.6 4.2, 2.0.1 B02).
   Pending/Rejected: BootNotification again after the interval the CSMS gave.
3. Reconnect back-off: ``RetryBackOffWaitMinimum x 2^min(n, RetryBackOffRepeatTimes) + uniform(0,
   RetryBackOffRandomRange)`` for the n-th consecutive failure (2.0.1 B10, connectivity.md 2.2). OCPP 1.6
   has no such keys; the same rule runs with the template's values (3 s, 10 s, 5 doublings by default).
"""

from __future__ import annotations

import enum

from chargewise.simulator.rng import Rng
from chargewise.simulator.settings import Settings


class Phase(enum.Enum):
    OFF = "off"
    OFFLINE = "offline"
    BOOTING = "booting"
    ACCEPTED = "accepted"
    REBOOTING = "rebooting"


def reconnect_wait(attempt: int, settings: Settings, rng: Rng) -> float:
    """Seconds to wait before connection attempt ``attempt + 1`` (rule 3); draws once from ``rng``."""
    wait = float(settings.int("backoff_minimum") * 2 ** min(attempt, settings.int("backoff_repeat")))
    return wait + rng.uniform(0, settings.int("backoff_random"))
