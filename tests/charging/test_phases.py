"""Phase detection: single-phase only after CONFIRM agreeing readings, three phases at once, no-draw keeps."""

from __future__ import annotations

from chargewise.charging.phases import CONFIRM, PhaseGuess, detect, observe


def test_one_reading_says_what_it_sees() -> None:
    assert observe((16.0, 0.0, 0.0)) == 1
    assert observe((16.0, 15.8, 16.1)) == 3
    assert observe((0.2, 0.1, 0.0)) is None  # nothing drawn: no information
    assert observe((0.0, 16.0, 0.0)) is None  # on L2 only: not how a single-phase car draws (it uses L1)
    assert observe((16.0, 16.0, 0.0)) is None  # two phases: a transient


def test_single_phase_needs_confirmation() -> None:
    guess: PhaseGuess | None = None
    for k in range(CONFIRM):
        guess = detect((16.0, 0.0, 0.0), guess)
        assert guess.phases == (1 if k == CONFIRM - 1 else None), k
    assert guess is not None and guess.confident


def test_three_phases_believed_at_once_and_idle_keeps() -> None:
    guess = detect((16.0, 0.0, 0.0), None)
    for _ in range(CONFIRM):
        guess = detect((16.0, 0.0, 0.0), guess)
    assert guess.phases == 1
    idle = detect((0.0, 0.0, 0.0), guess)
    assert idle is guess
    switched = detect((10.0, 10.0, 10.0), guess)
    assert switched.phases == 3  # counting it on too few phases would overload the others
    back = detect((10.0, 0.0, 0.0), switched)
    assert back.phases == 3 and back.streak == 1
