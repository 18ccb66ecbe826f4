"""REST for asynchronous OCPP commands: ``POST /api/v1/chargers/{id}/jobs`` (or ``/calls?async=true``) answers
202 with a job at once; ``GET /api/v1/jobs/{id}`` has the charger's answer when it came. Thin: ``Jobs`` does it."""

from __future__ import annotations

from aiohttp import web

from chargewise.adapters import api_client_models as m
from chargewise.adapters.http_access import ADMIN_ACTIONS, require
from chargewise.adapters.http_common import body, listed, ok, query
from chargewise.domain.api_clients import Role
from chargewise.services.jobs import Jobs
from chargewise.services.paging import parse_limit

JOBS: web.AppKey[Jobs] = web.AppKey("chargewise-jobs")


def accepted(request: web.Request, charger_id: str, new: m.JobRequest) -> web.Response:
    """Submit ``new`` for ``charger_id``; the 202 answer with the job (its callback secret, once)."""
    if new.action in ADMIN_ACTIONS and (refused := require(request, Role.ADMIN, new.action)) is not None:
        return refused
    job = request.app[JOBS].submit(charger_id, new.action, new.payload, new.callback_url)
    response = ok(m.job_view(job, with_secret=True), 202)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response


async def submit_job(request: web.Request) -> web.Response:
    query(request, ())
    return accepted(request, request.match_info["id"], await body(request, m.JobRequest))


async def list_jobs(request: web.Request) -> web.Response:
    params = query(request, {"limit", "cursor", "charger_id"})
    listing = request.app[JOBS].jobs(limit=parse_limit(params.get("limit")), cursor=params.get("cursor"),
                                     charger_id=params.get("charger_id"))  # fmt: skip
    return listed(request, listing, m.job_view)


async def get_job(request: web.Request) -> web.Response:
    query(request, ())
    return ok(m.job_view(request.app[JOBS].get(request.match_info["id"])))


def add_routes(app: web.Application, jobs: Jobs) -> None:
    app[JOBS] = jobs
    r = app.router
    r.add_post("/api/v1/chargers/{id}/jobs", submit_job)
    r.add_get("/api/v1/jobs", list_jobs)
    r.add_get("/api/v1/jobs/{id}", get_job)
