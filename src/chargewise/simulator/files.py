"""HTTP file transfers for firmware images and log uploads (aiohttp client).

Uploads are ``POST`` multipart/form-data with one part named ``file`` (the file name set); a 2xx answer
is success. Downloads are ``GET``. Only http(s) URLs are supported; ftp:// fails (UploadFailed /
DownloadFailed), as it would on a charger without an FTP client.
"""

from __future__ import annotations

import aiohttp

MAX_DOWNLOAD = 32 * 1024 * 1024


class Files:
    """One HTTP client session shared by every charger of a run; :meth:`close` it at the end."""

    def __init__(self, *, timeout: float = 30.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def upload(self, url: str, filename: str, body: bytes) -> tuple[bool, str]:
        """POST ``body`` as ``filename``; returns (ok, detail)."""
        if not url.startswith(("http://", "https://")):
            return False, f"unsupported URL scheme in {url!r}"
        form = aiohttp.FormData()
        form.add_field("file", body, filename=filename, content_type="text/plain")
        try:
            async with self._client().post(url, data=form) as response:
                return 200 <= response.status < 300, f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return False, str(exc) or type(exc).__name__

    async def download(self, url: str) -> tuple[bool, bytes, str]:
        """GET ``url``; returns (ok, body, detail)."""
        if not url.startswith(("http://", "https://")):
            return False, b"", f"unsupported URL scheme in {url!r}"
        try:
            async with self._client().get(url) as response:
                if not 200 <= response.status < 300:
                    return False, b"", f"HTTP {response.status}"
                body = await response.content.read(MAX_DOWNLOAD)
                return True, body, f"{len(body)} bytes"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return False, b"", str(exc) or type(exc).__name__

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
