"""``chargewise api-tokens``: a token made by the CLI works at once against a running server on the same store,
is listed without its secret, and stops working within two seconds of its revocation; errors are one line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from tests.conftest import start_server
from tests.test_cli import cli, one_line_error


async def status_with(url: str, secret: str) -> int:
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {secret}"}) as http,
        http.get(f"{url}/api/v1/chargers") as r,
    ):
        return r.status


async def test_cli_tokens_reach_a_running_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = await start_server(data)
    try:
        made = cli("api-tokens", "create", "--role", "viewer", "--name", "wall display", "--json",
                   "--data-dir", str(data))  # fmt: skip
        assert made.returncode == 0, made.stderr
        token = json.loads(made.stdout)
        assert token["role"] == "viewer" and token["created_at"].endswith("Z") and token["secret"].startswith("cw_")
        assert await status_with(server.http_url, token["secret"]) == 200
        listed = cli("api-tokens", "list", "--json", "--data-dir", str(data))
        assert json.loads(listed.stdout) == [{k: v for k, v in token.items() if k != "secret"}]
        stored = (data / "chargewise.db").read_bytes() + b"".join(p.read_bytes() for p in data.glob("chargewise.db-*"))
        assert token["secret"] not in listed.stdout and token["secret"].encode() not in stored  # only its hash
        revoked = cli("api-tokens", "revoke", token["id"], "--data-dir", str(data))
        assert revoked.returncode == 0 and "revoked" in revoked.stdout
        await asyncio.sleep(2.2)  # the server's cache of known tokens lasts 2 s
        assert await status_with(server.http_url, token["secret"]) == 401
        one_line_error(cli("api-tokens", "revoke", "wall display", "--data-dir", str(data)), "no token")
    finally:
        await server.app.stop()
