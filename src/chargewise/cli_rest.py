"""What the commands that need the running server share: one REST request with the admin token, its
Problem turned into a one-line error (``chargewise call`` does the same for commands)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from chargewise.cli_support import UsageError, load_config

DEFAULT_SERVER = "http://127.0.0.1:8080"


def add_server_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", default=None, help=f"REST base URL of the running server (default {DEFAULT_SERVER})")


async def rest(args: argparse.Namespace, method: str, path: str, json: Any = None) -> Any:
    """``method path`` on the server ``--server`` / ``$CHARGEWISE_SERVER`` names; the decoded JSON answer, or a
    :class:`UsageError` with the server's problem (``error; fix``)."""
    import aiohttp

    from chargewise.bootstrap import Settings, admin_token

    directory, url, _config = load_config(args)
    token, _ = admin_token(Settings(data_dir=directory, db_url=url,
                                    admin_token=os.environ.get("CHARGEWISE_ADMIN_TOKEN")))  # fmt: skip
    base = getattr(args, "server", None) or os.environ.get("CHARGEWISE_SERVER") or DEFAULT_SERVER
    try:
        async with aiohttp.ClientSession() as http, http.request(
            method, f"{base.rstrip('/')}{path}", json=json, headers={"Authorization": f"Bearer {token}"}
        ) as response:  # fmt: skip
            answer = await response.json(content_type=None) if response.status != 204 else None
    except aiohttp.ClientError as exc:
        why = f"cannot reach the server at {base} ({exc}); is `chargewise serve` running? (--server URL)"
        raise UsageError(why) from None
    except ValueError:
        raise UsageError(f"the server at {base} did not answer JSON; is --server the chargewise REST URL?") from None
    if response.status >= 400:
        if isinstance(answer, dict) and "error" in answer:
            raise UsageError(f"{answer['error']}; {answer.get('fix', '')}".rstrip("; "))
        raise UsageError(f"HTTP {response.status} from {base}")
    return answer
