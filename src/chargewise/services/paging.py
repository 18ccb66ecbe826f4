"""Paged listings: the ``limit`` and ``cursor`` every list (REST and CLI) takes, checked in one place.

A cursor is opaque to the caller: the key of the last item of a page, tagged with the listing it belongs to and
base64url-encoded. Pass it back unchanged to get the next page; a cursor from another listing, or edited, is
refused with an :class:`~chargewise.services.admin_errors.InvalidRequest` that says to start again without one.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from chargewise.services.admin_errors import InvalidRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR = 200  # characters: a cursor this API made is far shorter (a key of at most 48 characters)

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class Listing(Generic[T]):
    """One page as the operator sees it: ``next_cursor`` fetches the next page (None: this is the last)."""

    items: list[T]
    total: int
    limit: int
    next_cursor: str | None


def check_limit(limit: int | None) -> int:
    """``limit``, or the default when None; refuse anything outside 1..MAX_LIMIT."""
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        shown = str(limit) if abs(limit) < 10**12 else "this large"
        raise InvalidRequest(f"limit {shown} is out of range", fix=f"ask for 1 to {MAX_LIMIT} items per page")
    return limit


def parse_limit(text: str | None) -> int:
    """A ``limit`` as typed (a query parameter, a command-line option): a whole number, checked."""
    if text is None:
        return DEFAULT_LIMIT
    try:
        limit = int(text) if len(text) <= 100 else MAX_LIMIT + 1  # int() of 4,301 digits raises; too big anyway
    except ValueError:
        raise InvalidRequest(f"limit {text[:20]!r} is not a whole number", fix=f"give 1 to {MAX_LIMIT}") from None
    return check_limit(limit)


def make_cursor(listing: str, key: str | int | None) -> str | None:
    """The cursor that continues ``listing`` after ``key`` (None when there is no next page)."""
    if key is None:
        return None
    return base64.urlsafe_b64encode(f"{listing}:{key}".encode()).decode().rstrip("=")


def read_cursor(listing: str, cursor: str | None) -> str | None:
    """The key a cursor of ``listing`` carries (None for no cursor: the first page)."""
    if cursor is None:
        return None
    problem = InvalidRequest(
        f"cursor {cursor[:40]!r} is not one this listing gave", fix="start again from the first page, without cursor"
    )
    if len(cursor) > MAX_CURSOR:
        raise problem
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        raise problem from None
    tag, sep, key = text.partition(":")
    if tag != listing or not sep or not key:
        raise problem
    return key
