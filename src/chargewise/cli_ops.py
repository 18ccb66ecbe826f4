"""``chargewise status`` (a live overview of a running server), ``chargewise trace CHARGER`` (its OCPP frames
as they go over the wire) and ``chargewise completion bash|zsh``. Status and trace talk to the running server
over its REST API with the admin token (``cli_locate`` finds both, wherever the command is started from)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from chargewise.cli_locate import admin_token, server_url
from chargewise.cli_support import UsageError, load_config, print_json

REFRESH_S = 2.0


def add_arguments(sub: Any, store_options: Callable[[argparse.ArgumentParser], None]) -> None:
    status = sub.add_parser("status", help="a live overview of the running server: chargers, sessions, site power")
    status.add_argument("--once", action="store_true", help="print once and exit (default: refresh every 2 s)")
    status.add_argument("--json", action="store_true", help="print the overview once as JSON")
    status.add_argument("--server", help="REST base URL (default: the running server's, or http://127.0.0.1:8080)")
    store_options(status)
    trace = sub.add_parser("trace", help="a charger's OCPP frames, live (credentials redacted); Ctrl-C ends")
    trace.add_argument("charger_id")
    trace.add_argument("--history", type=int, default=20, help="frames before now to show first (default 20)")
    trace.add_argument("--json", action="store_true", help="one JSON object per frame (NDJSON)")
    trace.add_argument("--server", help="REST base URL (default: the running server's, or http://127.0.0.1:8080)")
    store_options(trace)
    completion = sub.add_parser("completion", help="print a shell completion script: eval \"$(chargewise "
                                "completion bash)\"")  # fmt: skip
    completion.add_argument("shell", choices=["bash", "zsh"])


# ---------------------------------------------------------------------- talking to the server
async def _get(http: Any, base: str, path: str) -> tuple[Any, dict[str, str]]:
    import aiohttp

    try:
        async with http.get(f"{base}{path}") as response:
            if response.status == 401:
                raise UsageError("the server refused the admin token; point to its data directory with --data-dir, "
                                 "or set CHARGEWISE_ADMIN_TOKEN")  # fmt: skip
            body = await response.json(content_type=None)
            if response.status == 404 and path.startswith("/api/v1/sites"):
                return [], {}
            if response.status != 200:
                raise UsageError(f"{path}: {body.get('error', response.status)} ({body.get('fix', '')})")
            return body, dict(response.headers)
    except aiohttp.ClientError as exc:
        raise UsageError(f"cannot reach the server at {base} ({exc}); is `chargewise serve` running? "
                         "(--server URL)") from None  # fmt: skip


def _session(args: argparse.Namespace) -> tuple[Any, str]:
    import aiohttp

    directory, _url, _config = load_config(args)
    token = admin_token(directory) or ""
    base = server_url(args.server).rstrip("/")
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}), base


async def overview(http: Any, base: str) -> dict[str, Any]:
    """What ``status`` shows, from the REST API."""
    chargers, headers = await _get(http, base, "/api/v1/chargers?limit=1000")
    sessions, _ = await _get(http, base, "/api/v1/transactions?active=true&limit=1000")
    sites, _ = await _get(http, base, "/api/v1/sites")
    online = [c for c in chargers if c["connected"]]
    site_rows = []
    for site in sites:
        root = next((n for n in site["nodes"] if n["parent"] is None), None)
        drawn = sum(n["drawn_kw"] or 0.0 for n in site["nodes"] if n["parent"] is None)
        site_rows.append({"name": site["name"], "policy": site["policy"], "drawn_kw": drawn,
                          "limit_kw": root["limit_kw"] if root else None, "limit_a": root["limit_a"] if root else None,
                          "evses": len(site["evses"]), "online": sum(e["online"] for e in site["evses"])})  # fmt: skip
    return {"server": base, "chargers": {"total": int(headers.get("X-Total-Count", len(chargers))),
            "online": len(online), "offline": len(chargers) - len(online)},
            "offline": [c["id"] for c in chargers if not c["connected"]][:50],
            "sessions": [{"id": t["id"], "charger": t["charger_id"], "evse": t["evse_id"], "id_tag": t["id_tag"],
                          "started": t["started_at"], "energy_wh": t.get("energy_wh")} for t in sessions],
            "sites": site_rows}  # fmt: skip


def render(view: dict[str, Any]) -> Group:
    c = view["chargers"]
    head = Table.grid(padding=(0, 2))
    head.add_row(f"[bold]{view['server']}[/]", f"chargers [green]{c['online']} online[/]",
                 f"[red]{c['offline']} offline[/]", f"{len(view['sessions'])} sessions",
                 datetime.now().strftime("%H:%M:%S"))  # fmt: skip
    sites = Table("site", "policy", "power kW", "limit", "EVSEs online", title="Sites", title_justify="left")
    for s in view["sites"]:
        limit = f"{s['limit_kw']:.1f} kW" if s["limit_kw"] else "/".join(f"{a:g}" for a in s["limit_a"] or [] if a)
        sites.add_row(s["name"], s["policy"], f"{s['drawn_kw']:.1f}", limit + (" A" if not s["limit_kw"] else ""),
                      f"{s['online']}/{s['evses']}")  # fmt: skip
    sessions = Table("id", "charger", "evse", "id tag", "started", "kWh", title="Sessions", title_justify="left")
    for t in view["sessions"][:30]:
        kwh = "" if t["energy_wh"] is None else f"{t['energy_wh'] / 1000:.2f}"
        sessions.add_row(str(t["id"]), t["charger"], str(t["evse"]), t["id_tag"] or "", t["started"][:19], kwh)
    parts: list[Any] = [head]
    if view["sites"]:
        parts.append(sites)
    parts.append(sessions)
    if view["offline"]:
        parts.append(f"[red]offline:[/] {', '.join(view['offline'][:20])}")
    return Group(*parts)


async def status(args: argparse.Namespace) -> int:
    http, base = _session(args)
    async with http:
        view = await overview(http, base)
        if args.json:
            print_json(view)
            return 0
        console = Console()
        if args.once or not console.is_terminal:
            console.print(render(view))
            return 0
        with Live(render(view), console=console, refresh_per_second=2) as live:
            while True:
                await asyncio.sleep(REFRESH_S)
                live.update(render(await overview(http, base)))


async def trace(args: argparse.Namespace) -> int:
    import aiohttp

    http, base = _session(args)
    path = f"/api/v1/chargers/{args.charger_id}/trace/stream?history={max(0, args.history)}"
    async with http:
        try:
            async with http.get(f"{base}{path}", timeout=aiohttp.ClientTimeout(total=None)) as response:
                if response.status != 200:
                    body = await response.json(content_type=None)
                    raise UsageError(f"{body.get('error', response.status)} ({body.get('fix', '')})")
                async for line in response.content:
                    if line.strip():
                        _print_frame(json.loads(line), args.json)
        except aiohttp.ClientError as exc:
            raise UsageError(f"cannot reach the server at {base} ({exc}); is `chargewise serve` running? "
                             "(--server URL)") from None  # fmt: skip
    return 0


def _print_frame(frame: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(frame), flush=True)
        return
    arrow = "<-" if frame["direction"] == "in" else "->"
    print(f"{frame['at'][11:23]} {arrow} {frame['frame']}", flush=True)


# ---------------------------------------------------------------------- completion
def words(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Each command path (``""``, ``"chargers"``, ``"chargers list"``) and the words that may follow it."""
    out: dict[str, list[str]] = {}

    def walk(p: argparse.ArgumentParser, path: str) -> None:
        options = [s for a in p._actions for s in a.option_strings if s.startswith("--")]
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        names = [name for a in subs for name in a.choices]
        choices = [str(c) for a in p._actions if not a.option_strings and a.choices and not isinstance(
            a, argparse._SubParsersAction) for c in a.choices]  # fmt: skip
        out[path] = names + choices + options
        for a in subs:
            for name, child in a.choices.items():
                walk(child, f"{path} {name}".strip())

    walk(parser, "")
    return out


def completion_script(shell: str, parser: argparse.ArgumentParser) -> str:
    table = words(parser)
    cases = "\n".join(f'        "{path}") words="{" ".join(ws)}" ;;' for path, ws in sorted(table.items()))
    script = f"""# chargewise {shell} completion: eval "$(chargewise completion {shell})"
_chargewise() {{
    local cur path word words i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    path=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        [[ "$word" == -* ]] && continue
        case "$path${{path:+ }}$word" in
{chr(10).join(f'            "{p}") path="{p}" ;;' for p in sorted(table) if p)}
        esac
    done
    case "$path" in
{cases}
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F _chargewise chargewise
"""
    if shell == "zsh":
        script = "autoload -U +X bashcompinit && bashcompinit\n" + script
    return script


async def completion(args: argparse.Namespace) -> int:
    print(completion_script(args.shell, args.root_parser), end="")  # cli.build_parser puts itself there
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
    "status": status, "trace": trace, "completion": completion,
}  # fmt: skip
