"""Scenario tables kept as JSON under ``cases/``: load one and turn its rows into pytest parameters."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

CASES = Path(__file__).parent / "cases"


def load(name: str) -> Any:
    """The parsed content of ``cases/<name>``."""
    return json.loads((CASES / name).read_text(encoding="utf-8"))


def params(rows: list[dict[str, Any]]) -> list[Any]:
    """One ``pytest.param`` per row, named by the row's ``id`` and version so a failure names its scenario."""
    return [pytest.param(row, id=f"{row['version']}-{row['id']}") for row in rows]


_MESSAGES = load("messages.json")


def sample(version: str, action: str, part: str) -> dict[str, Any]:
    """A fresh copy of a valid ``request`` or ``response`` payload of ``action`` (sessions may coerce in place)."""
    payload: dict[str, Any] = copy.deepcopy(_MESSAGES[version][action][part])
    return payload
