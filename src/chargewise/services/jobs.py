"""Asynchronous OCPP commands: submit one, get a job id at once, read its answer later (or be called back).

Rules:

1. A job is ``pending`` until the charger answers (``done``: its CallResult or CallError, exactly as the
   synchronous ``/calls`` returns it) or the call fails (``failed``: offline, not accepted, no answer in time,
   a payload the action's schema refuses), then it keeps its ``finished_at``.
2. With a ``callback_url`` the finished job is POSTed there (signed with the job's own ``callback_secret``,
   returned once at submission; retried as webhooks are, ``deliveries``); ``callback`` tells how that went.
3. Jobs live in memory, the last ``keep`` of them; an older one is forgotten (404 afterwards). At most
   ``max_pending`` run at once; one more is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from chargewise.ocpp.errors import LocalProtocolError
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.connections import CallOutcome, CallTimeout, ChargerOffline, NotAccepted
from chargewise.services.deliveries import Backoff, DeliveryStatus, Post, deliver
from chargewise.services.paging import Listing, check_limit, make_cursor, read_cursor
from chargewise.services.webhooks import check_url

Call = Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]]


class JobState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"  # the charger answered: see outcome (a CallResult or a CallError)
    FAILED = "failed"  # no answer: see failure


@dataclass(kw_only=True, eq=False)
class Job:
    id: str
    charger_id: str
    action: str
    payload: dict[str, Any]
    created_at: datetime
    callback_url: str | None
    callback_secret: str | None
    number: int  # submission order (the listing's key)
    state: JobState = JobState.PENDING
    outcome: CallOutcome | None = None
    failure: str | None = None
    finished_at: datetime | None = None
    callback: DeliveryStatus | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Jobs:
    """Jobs sending through ``call`` (``Registry.call``); :meth:`stop` at the end cancels the pending ones."""

    def __init__(self, *, call: Call, post: Post | None, now: Callable[[], datetime], keep: int = 1000,
                 max_pending: int = 200, backoff: Backoff | None = None) -> None:  # fmt: skip
        self._call, self._post, self._now = call, post, now
        self._keep, self._max_pending = keep, max_pending
        self._backoff = backoff or Backoff()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._count = 0

    def submit(self, charger_id: str, action: str, payload: dict[str, Any], callback_url: str | None = None) -> Job:
        if callback_url is not None and self._post is None:
            raise InvalidRequest("callbacks are off in this process", fix="poll GET /api/v1/jobs/{id} instead")
        if sum(j.state is JobState.PENDING for j in self._jobs.values()) >= self._max_pending:
            raise InvalidRequest(f"{self._max_pending} jobs are pending already", fix="retry when some have finished")
        self._count += 1
        job = Job(id=secrets.token_hex(8), charger_id=charger_id, action=action, payload=payload,
                  created_at=self._now(), callback_url=None if callback_url is None else check_url(callback_url),
                  callback_secret=None if callback_url is None else secrets.token_urlsafe(24),
                  number=self._count)  # fmt: skip
        self._jobs[job.id] = job
        while len(self._jobs) > self._keep:
            self._jobs.popitem(last=False)
        job.task = asyncio.get_running_loop().create_task(self._run(job), name=f"job {job.id}")
        return job

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id[:40]!r}", fix=f"jobs are kept for the last {self._keep} submitted")
        return job

    def jobs(
        self, *, limit: int | None = None, cursor: str | None = None, charger_id: str | None = None
    ) -> Listing[Job]:
        """Newest first, a page at a time."""
        size = check_limit(limit)
        before = read_cursor("jobs", cursor)
        if before is not None and not before.isdecimal():
            raise InvalidRequest("the cursor is not one this listing gave", fix="start again without cursor")
        found = [j for j in reversed(self._jobs.values()) if charger_id is None or j.charger_id == charger_id]
        after = [j for j in found if before is None or j.number < int(before)]
        page = after[:size]
        more = len(after) > size
        return Listing(items=page, total=len(found), limit=size,
                       next_cursor=make_cursor("jobs", page[-1].number if more else None))  # fmt: skip

    async def stop(self) -> None:
        for job in list(self._jobs.values()):
            if job.task is not None and not job.task.done():
                job.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job.task

    async def _run(self, job: Job) -> None:
        try:
            job.outcome = await self._call(job.charger_id, job.action, job.payload)
            job.state = JobState.DONE
        except (ChargerOffline, NotAccepted, CallTimeout, LocalProtocolError) as exc:
            job.state, job.failure = JobState.FAILED, str(exc)
        job.finished_at = self._now()
        if job.callback_url is not None and job.callback_secret is not None and self._post is not None:
            job.callback = DeliveryStatus()
            body = msgspec.json.encode(job_json(job))
            await deliver(self._post, job.callback_url, body, secret=job.callback_secret,
                          headers={"X-Chargewise-Job": job.id}, backoff=self._backoff, status=job.callback,
                          now=self._now)  # fmt: skip


def job_json(job: Job) -> dict[str, Any]:
    """The job as its callback carries it (the REST view's fields, without the secret)."""
    outcome = job.outcome
    answer: dict[str, Any] | None = None
    if outcome is not None:
        error = None if outcome.ok else {"code": outcome.error_code, "description": outcome.error_description,
                                         "details": outcome.error_details}  # fmt: skip
        answer = {"action": outcome.action, "result": outcome.payload, "error": error}
    return {"id": job.id, "charger_id": job.charger_id, "action": job.action, "state": job.state.value,
            "created_at": job.created_at, "finished_at": job.finished_at, "answer": answer,
            "failure": job.failure}  # fmt: skip
