"""``chargewise doctor ...``: one module per subcommand, each with ``HELP``, ``add_arguments(parser)`` and
``async def run(args) -> int``. Errors are raised as :class:`chargewise.cli_support.UsageError` (one line)."""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

SUBCOMMANDS = ("explain", "audit", "rf", "probe", "mdns")


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"chargewise.cli_doctor.{name}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="doctor_command", required=True, metavar="CHECK")
    for name in SUBCOMMANDS:
        try:
            module = _module(name)
        except ModuleNotFoundError as exc:  # while the checks are being built (removed once all exist)
            if exc.name != f"chargewise.cli_doctor.{name}":
                raise
            continue
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))


async def run(args: argparse.Namespace) -> int:
    result: int = await _module(args.doctor_command).run(args)
    return result
