"""Hostile OCPP-J frames from a seed: valid requests mutated, wrong types, huge and non-finite numbers, bad
timestamps, deep nesting, unknown ids, broken frames and answers to nothing.

Pure and deterministic: :func:`generate` with the same seed yields the same frames. Each :class:`Fuzzed`
says which reply ids are acceptable (the call's own id, ``"-1"`` when the frame may be unreadable) or that no
reply may come (an answer to a call we never made).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SEEDS = json.loads((Path(__file__).parent / "seeds.json").read_text("utf-8"))
#: version -> action -> valid request payloads
SEEDS: dict[str, dict[str, list[dict[str, Any]]]] = {
    version: {action: found if isinstance(found, list) else [found] for action, found in actions.items()}
    for version, actions in _SEEDS.items()
    if not version.startswith("_")
}
UNREADABLE = "-1"

BIG_NUMBERS: list[Any] = [
    2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 10**30, -(10**30),
    1e15, 1e16, 1e308, -1e308, 5e-324, -0.0, 10_000_000,
]  # fmt: skip
NON_FINITE_STRINGS = ["1e308", "-1e308", "1e400", "NaN", "nan", "inf", "-Infinity", "1e15", "1e16", "0x10", "1_000"]
BAD_TIMESTAMPS = [
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z", "2026-12-01T25:00:00Z", "2026-12-01T00:00:00+25:00", "2026-12-01", "yesterday",
    "2026-12-01T00:00:00.123456789123Z", "9998-12-31T23:59:59+14:00", "1970-01-01T00:00:00-14:00",
]  # fmt: skip
WRONG_TYPES: list[Any] = [None, True, False, "", "x" * 600, "Ω", "A\x00B", "\U0001f50c", 0, -1, 1.5, [], {}, [1, "a"],
                          {"a": {"b": 1}}]  # fmt: skip
ID_FIELDS = ("connectorId", "evseId", "transactionId", "reservationId", "seqNo", "requestId", "id", "remoteStartId")
TIME_FIELDS = ("timestamp", "generatedAt")
BROKEN_FRAMES = ['[2, "x", "Heartbeat", {', "", "null", "[]", "[2]", '{"a": 1}', "[2, 7, 1, {}]", "\x00"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Fuzzed:
    """One frame to send. ``reply_ids``: the one reply must carry one of these ids; None: no reply at all."""

    text: str
    reply_ids: frozenset[str] | None
    kind: str  # which mutation made it, for the figures
    action: str = ""


def generate(version: str, seed: int, count: int) -> Iterator[Fuzzed]:
    """``count`` frames for a charger speaking ``version``, from ``seed``."""
    rng = random.Random(f"{seed}/{version}")
    for n in range(count):
        yield _frame(rng, version, f"f{n}")


def _frame(rng: random.Random, version: str, uid: str) -> Fuzzed:
    roll = rng.random()
    if roll < 0.04:
        return _answer_to_nothing(rng, uid)
    if roll < 0.08:
        return _broken(rng, version, uid)
    action = rng.choice(sorted(SEEDS[version]))
    payload = copy.deepcopy(rng.choice(SEEDS[version][action]))
    kind = _mutate(rng, payload)
    text = json.dumps([2, uid, action, payload])
    if kind == "deep":
        text = _deepen(rng, text)
    text = text.replace('"__1e400__"', "1e400")  # a number no decoder holds: the frame is unreadable
    allowed = frozenset({uid, UNREADABLE}) if "1e400" in text else frozenset({uid})
    return Fuzzed(text=text, reply_ids=allowed, kind=kind, action=action)


def _answer_to_nothing(rng: random.Random, uid: str) -> Fuzzed:
    frame: list[Any] = (
        [3, f"a-{uid}", {"status": "Accepted"}]
        if rng.random() < 0.5
        else [4, f"a-{uid}", "GenericError", "no such call", {}]
    )
    return Fuzzed(text=json.dumps(frame), reply_ids=None, kind="answer-to-nothing")


def _broken(rng: random.Random, version: str, uid: str) -> Fuzzed:
    choice = rng.randrange(5)
    if choice == 0:
        return Fuzzed(text=rng.choice(BROKEN_FRAMES), reply_ids=frozenset({UNREADABLE}), kind="unreadable")
    if choice == 1:
        return Fuzzed(text=json.dumps([rng.choice([0, 1, 5, 7, -2, "2"]), uid, "Heartbeat", {}]),
                      reply_ids=frozenset({uid, UNREADABLE}), kind="message-type")  # fmt: skip
    if choice == 2:
        return Fuzzed(text=json.dumps([2, uid, rng.choice(["MakeCoffee", "", "Reset", "heartbeat"]), {}]),
                      reply_ids=frozenset({uid}), kind="action")  # fmt: skip
    if choice == 3:
        return Fuzzed(text=json.dumps([2, uid, "Heartbeat", rng.choice([[], "x", 1, None])]),
                      reply_ids=frozenset({uid}), kind="payload-type")  # fmt: skip
    text = json.dumps([2, rng.choice(["", "x" * 37, 5, None]), "Heartbeat", {}])
    return Fuzzed(text=text, reply_ids=frozenset({UNREADABLE}), kind="bad-id")


def _mutate(rng: random.Random, payload: dict[str, Any]) -> str:
    """Change ``payload`` in place; return the name of the change."""
    roll = rng.random()
    places = list(_places(payload))
    if roll < 0.15 or not places:
        return "valid"
    if roll < 0.25:
        _set_named(rng, payload, ID_FIELDS, lambda: rng.choice([rng.randrange(2**31), rng.randrange(5), "tx-?"]))
        return "unknown-id"
    if roll < 0.35:
        _set_named(rng, payload, TIME_FIELDS, lambda: rng.choice(BAD_TIMESTAMPS))
        return "timestamp"
    if roll < 0.42:
        return "deep"
    container, key = rng.choice(places)
    if roll < 0.50:
        container.pop(key) if isinstance(container, dict) else container.clear()
        return "drop"
    if roll < 0.55 and isinstance(container, dict):
        container[rng.choice(["fuzz", "customData", "Value"])] = rng.choice(WRONG_TYPES)
        return "extra"
    if roll < 0.70:
        container[key] = rng.choice(BIG_NUMBERS)
        return "big-number"
    if roll < 0.82:
        container[key] = rng.choice([*NON_FINITE_STRINGS, "__1e400__"])
        return "non-finite"
    container[key] = rng.choice(WRONG_TYPES)
    return "wrong-type"


def _places(node: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) in ``node``: each value of each object and list, nested ones included."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        yield node, key
        yield from _places(value)


def _set_named(rng: random.Random, payload: dict[str, Any], names: tuple[str, ...], value: Any) -> None:
    found = [(c, k) for c, k in _places(payload) if isinstance(c, dict) and k in names]
    for container, key in found or [(payload, rng.choice(names))]:
        container[key] = value()


def _deepen(rng: random.Random, text: str) -> str:
    """Put a deeply nested value into the payload's last field (before the closing braces)."""
    depth = rng.choice([40, 200, 999, 4000])
    opener, closer = ("[", "]") if rng.random() < 0.5 else ('{"a":', "}")
    nested = opener * depth + "1" + closer * depth
    if text.endswith("{}]"):
        return text[:-3] + '{"data": ' + nested + "}]"
    return text[:-2] + ', "customData": ' + nested + "}]"
