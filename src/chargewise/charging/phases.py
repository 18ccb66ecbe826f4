"""How many phases a car really draws on, from measured currents, with hysteresis.

A car drawing on its EVSE's L1 only is single-phase (or has switched to one phase); one drawing on all three is
three-phase. One reading is not trusted for the single-phase guess: it takes ``CONFIRM`` agreeing readings in a row, so
a reading taken while a car ramps up phase by phase does not flip it. Three phases are believed at once
(counting a car on too few phases would overload the others). Readings with no phase drawing
(``DRAWING_A``) carry no information and keep the guess.

Call :func:`detect` once per meter reading with the previous :class:`PhaseGuess` (``None`` at the start of a
session); :func:`chargewise.charging.allocate.allocate` does this itself and keeps the guess in its result.
"""

from __future__ import annotations

from dataclasses import dataclass

# A phase carrying more than this is drawing. 1 A is well above the meter noise of charger-internal meters
# (IEC 62053-21 class 1 at 32 A full scale: 0.32 A) and well below the 6 A minimum of IEC 61851-1.
DRAWING_A = 1.0
# Readings in a row that must agree before the guess changes (meter values every 10-60 s: 30 s to 3 min).
CONFIRM = 3


@dataclass(frozen=True, kw_only=True, slots=True)
class PhaseGuess:
    """``phases`` is 1 or 3 once confident, else ``None``; ``seen``/``streak`` is the candidate being confirmed."""

    phases: int | None = None
    seen: int | None = None
    streak: int = 0

    @property
    def confident(self) -> bool:
        return self.phases is not None


def observe(measured_a: tuple[float, float, float]) -> int | None:
    """What one reading (in the EVSE's own phase order) says: 1, 3, or ``None`` (nothing drawn, or two phases,
    which no car does steadily: a transient)."""
    drawing = sum(1 for current in measured_a if current > DRAWING_A)
    if drawing == 1 and measured_a[0] > DRAWING_A:
        return 1
    return 3 if drawing == 3 else None


def detect(measured_a: tuple[float, float, float], previous: PhaseGuess | None) -> PhaseGuess:
    """The guess after one more reading: the same object when the reading adds nothing."""
    guess = previous or PhaseGuess()
    seen = observe(measured_a)
    if seen is None:
        return guess
    streak = guess.streak + 1 if seen == guess.seen else 1
    # more phases is believed at once (counting too few would be unsafe), fewer only once confirmed
    phases = seen if streak >= CONFIRM or seen == 3 else guess.phases
    return PhaseGuess(phases=phases, seen=seen, streak=streak)
