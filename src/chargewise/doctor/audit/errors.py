"""The one error a bad site file or native input raises: where (a field path or ``file:line``), what, the fix."""

from __future__ import annotations


class SiteError(ValueError):
    """Bad input a person can fix. ``str(error)`` is one line: ``where: problem (fix)``; print it as it is."""

    def __init__(self, where: str, problem: str, fix: str) -> None:
        super().__init__(f"{where}: {problem} ({fix})")
        self.where = where
        self.problem = problem
        self.fix = fix
