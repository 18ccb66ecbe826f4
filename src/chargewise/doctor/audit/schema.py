"""Reading one TOML table strictly: unknown keys get a did-you-mean, wrong types and values name the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

from chargewise.doctor.audit.errors import SiteError

E = TypeVar("E", bound=StrEnum)


def suggest(word: str, choices: Iterable[str]) -> str:
    """``did you mean "bands"?`` when one choice is close, else the whole list."""
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    close = close or [o for o in options if len(o) > 2 and (word.startswith(o) or o.startswith(word))][:1]
    return f'did you mean "{close[0]}"?' if close else f"use one of: {', '.join(options)}"


class Table:
    """A TOML table at ``where`` (``aps[1]``, ``dns``) that allows only ``keys``; read values with the getters."""

    def __init__(self, data: object, where: str, keys: Mapping[str, str], required: Iterable[str] = ()) -> None:
        if not isinstance(data, dict):
            raise SiteError(where, f"expected a table, got {_show(data)}", f"write [{where}] or {where} = {{ ... }}")
        self.data: dict[str, Any] = data
        self.where = where
        for key in data:
            if key not in keys:
                raise SiteError(self.path(key), "unknown key", suggest(key, keys))
        for key in required:
            if key not in data:
                raise SiteError(self.path(key), "missing", f"add {key} = {keys[key]}")

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is not None and not isinstance(value, str):
            raise SiteError(self.path(key), f"expected text, got {_show(value)}", f'write {key} = "..."')
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SiteError(self.path(key), f"expected a list of text, got {_show(value)}", f'write {key} = ["..."]')
        return tuple(value)

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise SiteError(self.path(key), f"expected a number, got {_show(value)}", f"write {key} = 12")
        return None if value is None else float(value)

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise SiteError(self.path(key), f"expected a whole number, got {_show(value)}", f"write {key} = 20")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise SiteError(self.path(key), f"expected true or false, got {_show(value)}", f"write {key} = true")
        return value

    def choice(self, key: str, kind: type[E], default: E | None = None) -> E:
        value = self.text(key)
        if value is None:
            if default is None:
                raise SiteError(self.path(key), "missing", f'add {key} = "{next(iter(kind)).value}"')
            return default
        try:
            return kind(value)
        except ValueError:
            raise SiteError(
                self.path(key), f'unknown value "{value}"', suggest(value, [m.value for m in kind])
            ) from None

    def tables(self, key: str) -> list[tuple[str, Any]]:
        """An array of tables (``[[aps]]``) as (``aps[i]``, data) pairs."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise SiteError(self.path(key), f"expected an array of tables, got {_show(value)}", f"write [[{key}]]")
        return [(f"{self.path(key)}[{i}]", item) for i, item in enumerate(value)]

    def sub(self, key: str) -> Any:
        return self.data.get(key, {})


def _show(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value).lower() if isinstance(value, bool) else repr(value)
