"""The ``Post`` that webhooks and job callbacks send with (``services.deliveries``): one aiohttp session,
a timeout per attempt, every network failure turned into one line instead of an exception."""

from __future__ import annotations

import asyncio

import aiohttp

from chargewise import __version__


class WebhookSender:
    """Open it in the server (``bootstrap``), :meth:`close` it at the end; ``timeout_s`` bounds each attempt."""

    def __init__(self, *, timeout_s: float = 10.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        if self._session is None:  # made on first use: inside the running loop
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  headers={"User-Agent": f"chargewise/{__version__}"})  # fmt: skip
        try:
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as answer:
                await answer.read()
                if 200 <= answer.status < 300:
                    return None
                return f"HTTP {answer.status} {answer.reason or ''}".strip()
        except TimeoutError:
            return f"no answer within {self._timeout.total:g} s"
        except (aiohttp.ClientError, OSError, ValueError) as exc:  # ValueError: a URL aiohttp cannot use
            return f"{type(exc).__name__}: {exc}"[:300]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector close its transports
            self._session = None
