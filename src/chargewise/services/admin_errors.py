"""What an operator asked for that cannot be done: the operator's fault, said in one line with the fix.

The REST API answers each kind with its status (400, 404, 409) and a JSON problem ``{"error", "fix"}``; the
CLI prints ``chargewise: error: <message>; <fix>`` and exits with 2. Neither shows a traceback.
"""

from __future__ import annotations

MAX_LOOKUP = 1000  # characters: no id or tag is longer


def storable(key: str) -> bool:
    """Whether ``key`` can be looked up at all: PostgreSQL text holds no NUL, and no id is this long. Ask the
    store only for those; any other key is simply not found."""
    return len(key) <= MAX_LOOKUP and "\x00" not in key


class AdminError(Exception):
    """``message``: what is wrong; ``fix``: what to do instead (worded for the REST API and the CLI alike)."""

    def __init__(self, message: str, *, fix: str) -> None:
        super().__init__(f"{message}; {fix}")
        self.message = message
        self.fix = fix


class InvalidRequest(AdminError):
    """A value is malformed or out of range (REST 400)."""


class NotFound(AdminError):
    """No charger, transaction or token with that id (REST 404)."""


class AlreadyExists(AdminError):
    """A charger with that id exists already (REST 409)."""
