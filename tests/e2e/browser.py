"""Headless Chromium for the dashboard's tests: Debian's ``chromium`` (``make test`` installs it when it can),
driven by Playwright, which never downloads a browser of its own here (``executable_path``).

Without the browser or Playwright the tests skip locally with the command that installs them; under
``CI=true`` they fail, like tests/external_services.py does for a missing service.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install -y chromium (or `make test`, which runs it when it can)"
# as the machine notes advise: no sandbox as root, and no background traffic to a closed network
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
LOCAL = {"127.0.0.1", "localhost"}


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Browser:
    """One browser; pages opened with :meth:`page` record every request that leaves loopback and every
    script error, which the test then asserts on (``foreign``) or is failed for (``errors``)."""

    browser: Any
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def page(self, viewport: dict[str, int]) -> Any:
        context = await self.browser.new_context(viewport=viewport)
        page = await context.new_page()
        page.on("request", self._request)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.set_default_timeout(10_000)
        return page

    def _console(self, message: Any) -> None:
        # a refused fetch (a 401 at login, a 404 for an optional route) is logged by the browser: not a bug
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _request(self, request: Any) -> None:
        url = urlsplit(request.url)
        if url.scheme not in ("data", "about", "blob") and url.hostname not in LOCAL:
            self.foreign.append(request.url)

    async def shoot(self, page: Any, folder: Path | None, name: str, *viewports: dict[str, int]) -> None:
        """Check the page fits each viewport's width (a phone's too); with ``folder``, save ``NAME-desktop.png``
        and ``NAME-phone.png`` (by width) of the page as it is now."""
        for viewport in viewports:
            await page.set_viewport_size(viewport)
            await page.wait_for_timeout(400)  # the layout settles, the charts redraw
            width = await page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{name}: {width} px wide on a {viewport['width']} px screen"
            if folder is not None:
                kind = "phone" if viewport["width"] < 700 else "desktop"
                await page.screenshot(path=str(folder / f"{name}-{kind}.png"), full_page=True)
        await page.set_viewport_size(viewports[0])
        assert not self.errors, self.errors


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM}; install it with: {INSTALL}")


@asynccontextmanager
async def launch() -> AsyncIterator[Browser]:
    require_chromium()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _missing("Playwright for Python is not installed; install the dev extra: pip install -e '.[dev]'")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        running = Browser(browser)
        try:
            yield running
        finally:
            await browser.close()
        assert not running.errors, running.errors
