"""REST models of who uses the API (role tokens, webhooks) and of asynchronous commands (jobs), with their
routes for the OpenAPI document (``http_clients``, ``http_jobs``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from chargewise.adapters.openapi_parts import Extra, param
from chargewise.domain.api_clients import ApiToken
from chargewise.services.deliveries import DeliveryStatus
from chargewise.services.jobs import Job
from chargewise.services.webhooks import Pump


class NewApiToken(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    role: str  # admin, operator, viewer


class ApiTokenView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    role: str
    created_at: datetime


class CreatedApiToken(msgspec.Struct, kw_only=True):
    """``secret`` is shown this once: send it as ``Authorization: Bearer <secret>``."""

    id: str
    name: str
    role: str
    created_at: datetime
    secret: str


class NewWebhook(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: str
    kinds: list[str] = []  # connection, status, meter, transaction, allocation, finding, firmware, command; []: all
    chargers: list[str] = []  # []: every charger


class DeliveryView(msgspec.Struct, kw_only=True):
    delivered: int
    failed_attempts: int
    consecutive_failures: int
    given_up: int
    last_error: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None


class WebhookView(msgspec.Struct, kw_only=True):
    """``pending``: events queued for it; ``dropped``: pushed out of its full queue while it was failing."""

    id: str
    url: str
    kinds: list[str]
    chargers: list[str]
    created_at: datetime
    pending: int
    dropped: int
    delivery: DeliveryView


class CreatedWebhook(msgspec.Struct, kw_only=True):
    """``secret`` is shown this once: each POST carries ``X-Chargewise-Signature: sha256=HMAC(secret, body)``."""

    id: str
    url: str
    kinds: list[str]
    chargers: list[str]
    created_at: datetime
    secret: str


class JobRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: str
    payload: dict[str, Any] = {}
    callback_url: str | None = None  # POSTed the finished job, signed with the returned callback_secret


class AnswerView(msgspec.Struct, kw_only=True):
    action: str
    result: dict[str, Any] | None
    error: dict[str, Any] | None


class JobView(msgspec.Struct, kw_only=True):
    """``state``: pending, done (``answer``: the charger's CallResult or CallError) or failed (``failure``)."""

    id: str
    charger_id: str
    action: str
    state: str
    created_at: datetime
    finished_at: datetime | None
    answer: AnswerView | None
    failure: str | None
    callback_url: str | None
    callback: DeliveryView | None
    callback_secret: str | None = None  # only in the answer to the submission


def token_view(t: ApiToken) -> ApiTokenView:
    return ApiTokenView(id=t.id, name=t.name, role=t.role.value, created_at=t.created_at)


def created_token(t: ApiToken, secret: str) -> CreatedApiToken:
    return CreatedApiToken(id=t.id, name=t.name, role=t.role.value, created_at=t.created_at, secret=secret)


def delivery_view(s: DeliveryStatus) -> DeliveryView:
    return DeliveryView(delivered=s.delivered, failed_attempts=s.failed_attempts,
                        consecutive_failures=s.consecutive_failures, given_up=s.given_up, last_error=s.last_error,
                        last_attempt_at=s.last_attempt_at, last_success_at=s.last_success_at)  # fmt: skip


def webhook_view(p: Pump) -> WebhookView:
    w = p.webhook
    return WebhookView(id=w.id, url=w.url, kinds=list(w.kinds), chargers=list(w.chargers), created_at=w.created_at,
                       pending=p.pending, dropped=p.dropped, delivery=delivery_view(p.status))  # fmt: skip


def created_webhook(p: Pump) -> CreatedWebhook:
    w = p.webhook
    return CreatedWebhook(id=w.id, url=w.url, kinds=list(w.kinds), chargers=list(w.chargers),
                          created_at=w.created_at, secret=w.secret)  # fmt: skip


def job_view(job: Job, *, with_secret: bool = False) -> JobView:
    o = job.outcome
    answer = None
    if o is not None:
        error = None if o.ok else {"code": o.error_code, "description": o.error_description, "details": o.error_details}
        answer = AnswerView(action=o.action, result=o.payload, error=error)
    return JobView(id=job.id, charger_id=job.charger_id, action=job.action, state=job.state.value,
                   created_at=job.created_at, finished_at=job.finished_at, answer=answer, failure=job.failure,
                   callback_url=job.callback_url,
                   callback=None if job.callback is None else delivery_view(job.callback),
                   callback_secret=job.callback_secret if with_secret else None)  # fmt: skip


TOKEN_404 = {404: "no such token"}
WEBHOOK_404 = {404: "no such webhook"}
ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/api-tokens", "get", "REST bearer tokens (admin only); their secrets are never shown again", None,
     list[ApiTokenView], {}),
    ("/api/v1/api-tokens", "post", "Create a bearer token with a role (admin, operator, viewer); the secret is in "
     "this answer only", NewApiToken, CreatedApiToken, {409: "a token with that name exists"}),
    ("/api/v1/api-tokens/{id}", "delete", "Revoke a token (by id or name), at once", None, None, TOKEN_404),
    ("/api/v1/webhooks", "get", "Webhooks with their delivery status (admin only)", None, list[WebhookView], {}),
    ("/api/v1/webhooks", "post", "POST chosen events to a URL, signed (HMAC-SHA256) and retried with back-off; "
     "the secret is in this answer only", NewWebhook, CreatedWebhook, {}),
    ("/api/v1/webhooks/{id}", "get", "One webhook and how its deliveries went", None, WebhookView, WEBHOOK_404),
    ("/api/v1/webhooks/{id}", "delete", "Stop and forget a webhook", None, None, WEBHOOK_404),
    ("/api/v1/chargers/{id}/jobs", "post", "Send an OCPP command asynchronously: a job at once, the charger's answer "
     "later (GET /api/v1/jobs/{id}, or POSTed to callback_url)", JobRequest, JobView, {}),
    ("/api/v1/jobs", "get", "Asynchronous commands, newest first (the last 1000 are kept)", None, list[JobView], {}),
    ("/api/v1/jobs/{id}", "get", "One job: pending, done with the charger's answer, or failed", None, JobView,
     {404: "no such job (or forgotten)"}),
]  # fmt: skip
EXTRAS = {
    ("post", "/api/v1/api-tokens"): Extra(status="201"),
    ("post", "/api/v1/webhooks"): Extra(status="201"),
    ("post", "/api/v1/chargers/{id}/jobs"): Extra(status="202"),
    ("get", "/api/v1/jobs"): Extra(paged=True, query=[param("charger_id", "only this charger's jobs")]),
}
