"""REST for log uploads, and the upload endpoint chargers send them to. Thin: parse, call ``LogUploads``,
render ``api_fleet_models``. ``/uploads/{token}`` is outside ``/api`` (no bearer token: the signed, expiring
URL is the credential); everything else needs the admin token like the rest of the API."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import InvalidHeader

from chargewise.adapters import api_fleet_models as m
from chargewise.adapters.http_common import LINK_ERRORS, body, link_problem, ok, problem
from chargewise.adapters.log_files import UploadTooLarge
from chargewise.fleet.log_requests import LogRequest
from chargewise.fleet.upload_tokens import BadToken
from chargewise.ocpp.errors import LocalProtocolError
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.log_uploads import LogUploads, parse_kind

LOGS: web.AppKey[LogUploads | None] = web.AppKey("chargewise-logs")
CHUNK = 64 * 1024


def _logs(request: web.Request) -> LogUploads:
    logs = request.app[LOGS]
    if logs is None:
        raise NotFound("log uploads are not served here", fix="ask the server process that serves the REST API")
    return logs


async def request_log(request: web.Request) -> web.Response:
    charger_id = request.match_info["id"]
    kind = parse_kind((await body(request, m.LogRequestBody)).kind)
    try:
        record = await _logs(request).request(charger_id, kind)
    except LINK_ERRORS as exc:
        return link_problem(exc)
    except LocalProtocolError as exc:  # a bug of ours: the command we built does not fit the schema
        return problem(500, str(exc), "report it with the server log")
    return ok(m.log_view(record), 201)


async def list_logs(request: web.Request) -> web.Response:
    unknown = sorted(set(request.query) - {"charger_id"})
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0][:40]!r}", fix="use charger_id")
    return ok([m.log_view(r) for r in _logs(request).requests(request.query.get("charger_id") or None)])


async def get_log(request: web.Request) -> web.Response:
    return ok(m.log_view(_logs(request).get(request.match_info["id"])))


async def get_file(request: web.Request) -> web.FileResponse:
    record, path = _logs(request).file(request.match_info["id"])
    assert record.file is not None
    headers = {"Content-Disposition": f'attachment; filename="{record.file.name}"',
               "Content-Type": "application/octet-stream"}  # fmt: skip
    return web.FileResponse(path, headers=headers)


async def upload(request: web.Request) -> web.Response:
    logs = _logs(request)
    name = request.match_info.get("name")
    try:
        if request.content_type.startswith("multipart/"):
            record = await _multipart(logs, request, name)
        else:
            record = await logs.receive(request.match_info["token"], name, _chunks(request))
    except BadToken as exc:
        return problem(403, str(exc), "ask the operator to request the log again (the URL expires)")
    except UploadTooLarge as exc:
        return problem(413, str(exc), "upload a smaller file (or raise the server's log size limit)")
    assert record.file is not None
    return ok(m.UploadReceipt(id=record.id, size=record.file.size, sha256=record.file.sha256), 201)


async def _multipart(logs: LogUploads, request: web.Request, name: str | None) -> LogRequest:
    reader = await request.multipart()
    while (part := await _next_part(reader)) is not None:
        if isinstance(part, BodyPartReader) and (part.filename is not None or part.name == "file"):
            return await logs.receive(request.match_info["token"], part.filename or name, _part_chunks(part))
    raise InvalidRequest("the multipart body has no file part", fix="send the file in a part named file")


async def _next_part(reader: MultipartReader) -> object:
    """The next part; a body that is not valid multipart is the uploader's mistake (400), not ours."""
    try:
        return await reader.next()
    except (InvalidHeader, ValueError) as exc:
        raise InvalidRequest(
            f"the multipart body is malformed ({exc})", fix="send multipart/form-data with a file part"
        ) from None


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    while chunk := await request.content.read(CHUNK):
        yield chunk


async def _part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


def add_routes(app: web.Application, logs: LogUploads | None) -> None:
    """Register the routes on ``app`` (the API's Problem middleware applies, its bearer check to ``/api`` only);
    with ``logs`` None they answer 404 "not served here"."""
    app[LOGS] = logs
    r = app.router
    r.add_post("/api/v1/chargers/{id}/logs", request_log)
    r.add_get("/api/v1/logs", list_logs)
    r.add_get("/api/v1/logs/{id}", get_log)
    r.add_get("/api/v1/logs/{id}/file", get_file)
    for path in ("/uploads/{token}", "/uploads/{token}/{name}"):
        r.add_put(path, upload)
        r.add_post(path, upload)
