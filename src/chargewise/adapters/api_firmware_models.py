"""REST models of firmware artifacts and OTA campaigns (``adapters/http_firmware.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from chargewise.firmware.artifacts import Artifact
from chargewise.firmware.campaign import Campaign, Target
from chargewise.firmware.store import DownloadRecord, Note


class ArtifactView(msgspec.Struct, kw_only=True):
    id: str
    version: str
    filename: str
    sha256: str
    size: int
    added_at: datetime
    vendor: str | None
    model: str | None
    signed: bool


class DownloadView(msgspec.Struct, kw_only=True):
    charger_id: str
    at: datetime
    first_byte: int
    last_byte: int  # inclusive; -1: nothing sent
    status: int
    remote: str


class ArtifactDetail(msgspec.Struct, kw_only=True):
    artifact: ArtifactView
    downloads: list[DownloadView]


class CampaignStart(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What ``chargewise campaign start`` takes: select ``vendor=...,model=...,firmware=...,site=...,charger=...``,
    batch and max_failures ``N`` or ``P%``, window ``HH:MM-HH:MM`` local time in ``timezone`` (IANA)."""

    version: str
    select: str = ""
    canary: int = 1
    batch: str = "0"
    max_failures: str = "0"
    window: str | None = None
    timezone: str | None = None
    concurrency: int = 20
    retries: int = 3
    retry_interval_s: int = 60
    install_timeout_s: int = 3600


class CampaignView(msgspec.Struct, kw_only=True):
    id: str
    version: str
    selector: str
    state: str
    reason: str
    created_at: datetime
    canary: int
    batch: str
    max_failures: str
    concurrency: int
    window: str | None
    group: int
    groups: int
    progress: dict[str, int]  # chargers per stage: waiting, sent, downloading, ... succeeded, failed, skipped


class TargetView(msgspec.Struct, kw_only=True):
    charger_id: str
    group: int
    stage: str
    old_version: str | None
    last_status: str
    detail: str
    attempts: int
    request_id: int
    sent_at: datetime | None
    updated_at: datetime | None


class NoteView(msgspec.Struct, kw_only=True):
    at: datetime
    charger_id: str | None
    text: str


class CampaignDetail(msgspec.Struct, kw_only=True):
    campaign: CampaignView
    chargers: list[TargetView]
    history: list[NoteView]


def artifact_view(a: Artifact) -> ArtifactView:
    return ArtifactView(id=a.id, version=a.version, filename=a.filename, sha256=a.sha256, size=a.size,
                        added_at=a.added_at, vendor=a.vendor, model=a.model, signed=a.signed)  # fmt: skip


def download_view(d: DownloadRecord) -> DownloadView:
    return DownloadView(charger_id=d.charger_id, at=d.at, first_byte=d.first_byte, last_byte=d.last_byte,
                        status=d.status, remote=d.remote)  # fmt: skip


def campaign_view(c: Campaign, progress: dict[str, int]) -> CampaignView:
    return CampaignView(
        id=c.id, version=c.version, selector=c.selector, state=c.state.value, reason=c.reason,
        created_at=c.created_at, canary=c.canary, batch=c.batch.text(), max_failures=c.max_failures.text(),
        concurrency=c.concurrency, window=c.window.text() if c.window else None, group=c.group, groups=c.groups,
        progress=progress,
    )  # fmt: skip


def target_view(t: Target) -> TargetView:
    return TargetView(charger_id=t.charger_id, group=t.group, stage=t.stage.value, old_version=t.old_version,
                      last_status=t.last_status, detail=t.detail, attempts=t.attempts, request_id=t.request_id,
                      sent_at=t.sent_at, updated_at=t.updated_at)  # fmt: skip


def note_view(n: Note) -> NoteView:
    return NoteView(at=n.at, charger_id=n.charger_id, text=n.text)


UPLOAD = ("multipart/form-data: file (the image), version, and optionally vendor, model, sha256 (refused if the "
          "file's differs), signature (base64) with signing_certificate (PEM)")  # fmt: skip
NOT_FOUND = {404: "no such artifact or campaign"}
ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/firmware/artifacts", "get", "Firmware images chargewise serves", None, list[ArtifactView], {}),
    ("/api/v1/firmware/artifacts", "post", f"Add a firmware image. Body {UPLOAD}", None, ArtifactView,
     {400: "a field is missing or wrong (the message names it)"}),
    ("/api/v1/firmware/artifacts/{id}", "get", "One image, with its downloads and their byte ranges", None,
     ArtifactDetail, NOT_FOUND),
    ("/api/v1/firmware/artifacts/{id}", "delete", "Delete an image (its file too)", None, None, NOT_FOUND),
    ("/api/v1/firmware/campaigns", "get", "OTA campaigns, oldest first", None, list[CampaignView], {}),
    ("/api/v1/firmware/campaigns", "post", "Start a staged OTA campaign (canary, batches, window, thresholds)",
     CampaignStart, CampaignView, {400: "bad input (the message names the field and the fix)"}),
    ("/api/v1/firmware/campaigns/{id}", "get", "A campaign with each charger's stage and the history", None,
     CampaignDetail, NOT_FOUND),
    ("/api/v1/firmware/campaigns/{id}/pause", "post", "Start no more chargers", None, CampaignView,
     {**NOT_FOUND, 409: "not running"}),
    ("/api/v1/firmware/campaigns/{id}/resume", "post", "Go on (a halted campaign: its failures forgiven)", None,
     CampaignView, {**NOT_FOUND, 409: "not paused or halted"}),
    ("/api/v1/firmware/campaigns/{id}/abort", "post", "Start no more chargers, ever", None, CampaignView,
     {**NOT_FOUND, 409: "finished already"}),
]  # fmt: skip
