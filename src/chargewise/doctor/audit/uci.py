"""OpenWrt UCI files (``/etc/config/*``): ``config TYPE ['NAME']``, ``option KEY 'VALUE'``, ``list KEY 'VALUE'``.

Quotes are single, double or none (shell-like, as ``uci export`` writes and people hand-edit); ``#`` starts
a comment. Each value keeps its line number so a finding can say which line to change.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from chargewise.doctor.audit.errors import SiteError


@dataclass(frozen=True, kw_only=True, slots=True)
class Value:
    text: str
    line: int


@dataclass(kw_only=True, slots=True)
class Section:
    type: str
    name: str  # the given name, or "@TYPE[i]" as uci names anonymous sections
    line: int
    options: dict[str, Value] = field(default_factory=dict)
    lists: dict[str, list[Value]] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        value = self.options.get(key)
        return value.text if value else default

    def line_of(self, key: str) -> int:
        value = self.options.get(key) or next(iter(self.lists.get(key, ())), None)
        return value.line if value else self.line

    def values(self, key: str) -> list[Value]:
        """A ``list`` key's values, or an ``option``'s words (``option mac 'a b'`` means two MACs)."""
        if key in self.lists:
            return self.lists[key]
        option = self.options.get(key)
        return [Value(text=word, line=option.line) for word in option.text.split()] if option else []


def parse_uci(text: str, source: str) -> list[Section]:
    """The sections of one UCI file, in order; raises :class:`SiteError` naming ``source:line`` and the fix."""
    sections: list[Section] = []
    counts: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            words = shlex.split(raw, comments=True)
        except ValueError:
            raise SiteError(f"{source}:{number}", "unbalanced quote", "close the quote on that line") from None
        if not words:
            continue
        keyword = words[0]
        if keyword == "config":
            if len(words) not in (2, 3):
                raise SiteError(f"{source}:{number}", f"not a config line: {raw.strip()!r}", "write config TYPE 'NAME'")
            index = counts.get(words[1], 0)
            counts[words[1]] = index + 1
            name = words[2] if len(words) == 3 else f"@{words[1]}[{index}]"
            sections.append(Section(type=words[1], name=name, line=number))
        elif keyword in ("option", "list"):
            if not sections:
                raise SiteError(f"{source}:{number}", f"{keyword} before any config line", "add a config line above")
            if len(words) != 3:
                raise SiteError(
                    f"{source}:{number}", f"not an {keyword} line: {raw.strip()!r}", f"write {keyword} KEY 'VALUE'"
                )
            value = Value(text=words[2], line=number)
            if keyword == "option":
                sections[-1].options[words[1]] = value
            else:
                sections[-1].lists.setdefault(words[1], []).append(value)
        elif keyword != "package":
            raise SiteError(f"{source}:{number}", f"unknown keyword {keyword!r}", "use config, option or list")
    return sections
