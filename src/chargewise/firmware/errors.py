"""The one error a person gets for bad firmware or campaign input: the field, what is wrong, how to fix it."""

from __future__ import annotations


class FirmwareError(ValueError):
    """Bad input from a person (CLI, REST): ``str(exc)`` is one line, ``field: message (fix)``."""

    def __init__(self, field: str, message: str, fix: str) -> None:
        super().__init__(f"{field}: {message} ({fix})")
        self.field = field
        self.message = message
        self.fix = fix
