"""Read a site file from disk with the tariff it names: ``read_site_file(path)``, or ``with_tariff(parsed,
folder)`` for a site document that came another way (REST). A relative ``tariff.file`` is read from the site
file's folder (through REST: the server's working directory). Problems are ``SiteFileError``s in one line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chargewise.adapters.tariff_files import read_tariff
from chargewise.charging.sitefile import SiteFile, parse
from chargewise.charging.sitefile_values import SiteFileError
from chargewise.charging.tariff import TariffError


def read_site_file(path: Path) -> SiteFile:
    """The site file at ``path``, its tariff read; ``OSError`` when the file cannot be read."""
    return with_tariff(parse(path.read_text(encoding="utf-8")), path.parent)


def with_tariff(file: SiteFile, folder: Path) -> SiteFile:
    """``file`` with the tariff its ``tariff.file`` names read (relative to ``folder``); as it is without one."""
    if file.tariff_file is None:
        return file
    path = Path(file.tariff_file)
    if not path.is_absolute():
        path = folder / path
    try:
        tariff = read_tariff(path, currency=file.tariff_currency)
    except TariffError as exc:
        raise SiteFileError(f"tariff.file: {exc}") from None
    return dataclasses.replace(file, tariff=tariff)
