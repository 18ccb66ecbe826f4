"""HTTP for firmware: the image downloads chargers are sent to, and REST for artifacts and campaigns.

Downloads (``GET /firmware/{token}/{filename}``, no bearer token: the signed token is the permission) serve
the image with Range support (aiohttp's file response: 206 and Content-Range for a range, 416 for one out of
bounds) and record each one with the bytes it asked for. REST routes are thin: parse, call ``Artifacts`` /
``Campaigns``, render ``api_firmware_models``; a ``FirmwareError`` becomes a JSON Problem naming the field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import msgspec
from aiohttp import BodyPartReader, web

from chargewise.adapters import api_firmware_models as m
from chargewise.adapters.firmware_files import ImageFiles
from chargewise.adapters.http_common import body, ok, problem
from chargewise.domain.ports import Clock
from chargewise.firmware.artifacts import Artifact
from chargewise.firmware.errors import FirmwareError
from chargewise.firmware.links import Grant, sign, verify
from chargewise.firmware.store import DownloadRecord
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.artifacts import Artifacts
from chargewise.services.campaigns import CampaignRequest, Campaigns, Linker, progress

MAX_IMAGE = 64 * 1024 * 1024  # an upload larger than this is refused (413)
FIELDS = frozenset({"version", "vendor", "model", "sha256", "signature", "signing_certificate"})


@dataclass(frozen=True, kw_only=True)
class FirmwareDeps:
    artifacts: Artifacts
    campaigns: Campaigns
    files: ImageFiles
    key: bytes  # signs download links (``firmware.links``)
    clock: Clock


FIRMWARE: web.AppKey[FirmwareDeps | None] = web.AppKey("chargewise-firmware")


def _deps(request: web.Request) -> FirmwareDeps:
    deps = request.app[FIRMWARE]
    if deps is None:
        raise NotFound("firmware is not served by this process", fix="ask the server that serves the chargers")
    return deps


def linker(base_url: str, key: bytes) -> Linker:
    """The download URL builder campaigns use: ``<base_url>/firmware/<token>/<filename>``."""

    def link(artifact: Artifact, charger_id: str, until: datetime) -> str:
        token = sign(key, Grant(artifact_id=artifact.id, charger_id=charger_id, expires_at=until))
        return f"{base_url.rstrip('/')}/firmware/{token}/{artifact.filename}"

    return link


def _field(exc: FirmwareError) -> str:
    """The REST name of the field (``--max-failures`` is ``max_failures``, ``FILE`` is ``file``)."""
    return exc.field.lstrip("-").replace("-", "_").lower()


def _refusal(exc: FirmwareError) -> InvalidRequest | NotFound:
    kind = NotFound if exc.field == "ID" else InvalidRequest
    return kind(f"{_field(exc)}: {exc.message}", fix=exc.fix)


# ---------------------------------------------------------------------- downloads
async def download(request: web.Request) -> web.StreamResponse:
    deps = _deps(request)
    now = deps.clock.now()
    grant, why = verify(deps.key, request.match_info["token"], now)
    if grant is None:
        return problem(403, why, "ask the CSMS for a new link (the campaign sends one with each UpdateFirmware)")
    artifact = await deps.artifacts.store.artifact(grant.artifact_id)
    path = deps.files.path(grant.artifact_id)
    if artifact is None or artifact.filename != request.match_info["filename"] or not path.exists():
        return problem(404, "no such firmware image", "the image was deleted; ask the CSMS for a new link")
    first, last = 0, artifact.size - 1
    try:
        wanted = request.http_range  # a slice; ValueError for a header that is not a byte range
    except ValueError:
        wanted = slice(None, None)
    if wanted.start is not None:
        first = wanted.start if wanted.start >= 0 else max(artifact.size + wanted.start, 0)
        last = min((wanted.stop - 1) if wanted.stop is not None else artifact.size - 1, artifact.size - 1)
    status = 206 if request.headers.get("Range") else 200
    if first > last or first >= artifact.size:
        status, first, last = 416, first, -1
    remote = request.remote or ""
    await deps.artifacts.store.record_download(DownloadRecord(
        artifact_id=artifact.id, charger_id=grant.charger_id, at=now, first_byte=first, last_byte=last,
        status=status, remote=remote))  # fmt: skip
    return web.FileResponse(path, headers={"Content-Type": "application/octet-stream"})


# ---------------------------------------------------------------------- artifacts
async def list_artifacts(request: web.Request) -> web.Response:
    return ok([m.artifact_view(a) for a in await _deps(request).artifacts.all()])


async def add_artifact(request: web.Request) -> web.Response:
    if not request.content_type.startswith("multipart/"):
        raise InvalidRequest("not a multipart upload", fix=f"send {m.UPLOAD}")
    fields: dict[str, str] = {}
    image, filename = b"", ""
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise InvalidRequest("nested multipart", fix=f"send {m.UPLOAD}")
        if part.name == "file":
            filename = part.filename or "firmware.bin"
            chunks, size = [], 0
            while chunk := await part.read_chunk():
                size += len(chunk)
                if size > MAX_IMAGE:
                    return problem(413, f"image larger than {MAX_IMAGE // 2**20} MiB", "send a smaller image")
                chunks.append(chunk)
            image = b"".join(chunks)
        elif part.name in FIELDS:
            fields[part.name] = (await part.text()).strip()
        else:
            raise InvalidRequest(f"unknown field {str(part.name)[:30]!r}", fix=f"send {m.UPLOAD}")
    if not filename:
        raise InvalidRequest("file: missing", fix="send the image as the multipart field 'file'")
    if "version" not in fields:
        raise InvalidRequest("version: missing", fix="send the version the image reports at boot, e.g. 2.1.0")
    try:
        artifact = await _deps(request).artifacts.add(
            image, filename=filename, version=fields["version"], vendor=fields.get("vendor"),
            model=fields.get("model"), signature=fields.get("signature"),
            signing_certificate=fields.get("signing_certificate"), expected_sha256=fields.get("sha256"),
        )  # fmt: skip
    except FirmwareError as exc:
        raise _refusal(exc) from None
    return ok(m.artifact_view(artifact), 201)


async def get_artifact(request: web.Request) -> web.Response:
    artifacts = _deps(request).artifacts
    try:
        artifact = await artifacts.get(request.match_info["id"])
    except FirmwareError as exc:
        raise _refusal(exc) from None
    downloads = [m.download_view(d) for d in await artifacts.downloads(artifact.id)]
    return ok(m.ArtifactDetail(artifact=m.artifact_view(artifact), downloads=downloads))


async def delete_artifact(request: web.Request) -> web.Response:
    try:
        await _deps(request).artifacts.delete(request.match_info["id"])
    except FirmwareError as exc:
        raise _refusal(exc) from None
    return web.Response(status=204)


# ---------------------------------------------------------------------- campaigns
async def _view(campaigns: Campaigns, campaign_id: str) -> m.CampaignView:
    campaign, targets, _ = await campaigns.show(campaign_id)
    return m.campaign_view(campaign, progress(targets))


async def list_campaigns(request: web.Request) -> web.Response:
    campaigns = _deps(request).campaigns
    return ok([await _view(campaigns, c.id) for c in await campaigns.all()])


async def start_campaign(request: web.Request) -> web.Response:
    wanted = await body(request, m.CampaignStart)
    campaigns = _deps(request).campaigns
    try:
        started = await campaigns.start(CampaignRequest(**msgspec.structs.asdict(wanted)))
    except FirmwareError as exc:
        raise _refusal(exc) from None
    return ok(await _view(campaigns, started.id), 201)


async def get_campaign(request: web.Request) -> web.Response:
    try:
        campaign, targets, history = await _deps(request).campaigns.show(request.match_info["id"])
    except FirmwareError as exc:
        raise _refusal(exc) from None
    return ok(m.CampaignDetail(campaign=m.campaign_view(campaign, progress(targets)),
                               chargers=[m.target_view(t) for t in targets],
                               history=[m.note_view(n) for n in history]))  # fmt: skip


def _command(action: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        campaigns = _deps(request).campaigns
        campaign_id = request.match_info["id"]
        try:
            await campaigns.get(campaign_id)
        except FirmwareError as exc:
            raise _refusal(exc) from None
        try:
            await getattr(campaigns, action)(campaign_id)
        except FirmwareError as exc:
            return problem(409, f"{_field(exc)}: {exc.message}", exc.fix)
        return ok(await _view(campaigns, campaign_id))

    return handle


def add_routes(app: web.Application, deps: FirmwareDeps | None) -> None:
    """Register the routes on ``app`` (the API's bearer check and Problem middleware apply to /api/ ones);
    without ``deps`` (an API built without firmware) they answer 404, firmware is not served here."""
    app[FIRMWARE] = deps
    r = app.router
    r.add_get("/firmware/{token}/{filename}", download)
    r.add_get("/api/v1/firmware/artifacts", list_artifacts)
    r.add_post("/api/v1/firmware/artifacts", add_artifact)
    r.add_get("/api/v1/firmware/artifacts/{id}", get_artifact)
    r.add_delete("/api/v1/firmware/artifacts/{id}", delete_artifact)
    r.add_get("/api/v1/firmware/campaigns", list_campaigns)
    r.add_post("/api/v1/firmware/campaigns", start_campaign)
    r.add_get("/api/v1/firmware/campaigns/{id}", get_campaign)
    for action in ("pause", "resume", "abort"):
        r.add_post(f"/api/v1/firmware/campaigns/{{id}}/{action}", _command(action))
