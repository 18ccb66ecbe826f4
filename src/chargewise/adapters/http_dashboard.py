"""The web dashboard: ``/`` and its files under ``/dashboard/``, served from the package (``adapters/dashboard``).

Plain HTML, CSS and JavaScript modules, no build step and nothing fetched from elsewhere (the Content Security
Policy allows this origin only). The page is public; everything it shows comes from ``/api/v1`` with the token
the operator pastes at login (kept in the tab's sessionStorage), and live updates from ``GET /api/v1/events``.
Only files that were in the folder at start-up are served: no path from the request reaches the file system.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

FILES = Path(__file__).parent / "dashboard"
TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # the event stream's URL carries the token
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",  # revalidate: an upgraded server's files are seen at once
}
CATALOG: web.AppKey[dict[str, Path]] = web.AppKey("chargewise-dashboard")


def catalog(root: Path = FILES) -> dict[str, Path]:
    """The servable files: relative POSIX path -> file, for the types the dashboard uses."""
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in TYPES}


def _file(path: Path) -> web.Response:
    return web.Response(body=path.read_bytes(), content_type=TYPES[path.suffix], charset="utf-8", headers=HEADERS)


async def index(request: web.Request) -> web.Response:
    return _file(request.app[CATALOG]["index.html"])


async def asset(request: web.Request) -> web.Response:
    path = request.app[CATALOG].get(request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound(reason="no such dashboard file")
    return _file(path)


def add_routes(app: web.Application) -> None:
    """``/`` (the page) and ``/dashboard/{path}`` (its scripts and styles); no auth: they hold no data."""
    app[CATALOG] = catalog()
    app.router.add_get("/", index)
    app.router.add_get("/dashboard/{path:.+}", asset)
