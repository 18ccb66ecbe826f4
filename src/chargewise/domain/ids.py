"""Which charger ids chargewise accepts: one rule for the WebSocket handshake, the REST API and the CLI.

OCPP 2.0.1 calls the id an identifierString (at most 48 characters). We leave out ``:`` (it separates user and
password in HTTP Basic auth) and refuse ids made only of dots (``.`` and ``..`` are path segments, not names).
"""

from __future__ import annotations

import re

IDENTITY = re.compile(r"[A-Za-z0-9*\-_=+|@.]{1,48}")
RULE = "1-48 characters of A-Z a-z 0-9 * - _ = + | @ . (not only dots)"


def charger_id_problem(charger_id: str) -> str | None:
    """What is wrong with ``charger_id`` in one line naming the rule, or None if it is a valid id."""
    if not charger_id:
        return f"the charger id is empty; it must be {RULE}"
    if not IDENTITY.fullmatch(charger_id):
        return f"charger id {charger_id[:60]!r} is not allowed; it must be {RULE}"
    if set(charger_id) == {"."}:
        return f"charger id {charger_id!r} is a path segment, not a name; it must be {RULE}"
    return None
