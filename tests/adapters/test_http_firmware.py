"""Firmware over HTTP on a real server: uploads, bad input as one-line Problems naming the field, signed
expiring download links with Range requests, each download logged with its byte range."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from chargewise.domain.model import BootInfo, OcppVersion
from tests.conftest import RunningServer, add_chargers

IMAGE = b"version=2.0.0\n" + bytes(range(256)) * 8


async def call(server: RunningServer, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession(headers=server.headers) as http, http.request(
            method, f"{server.http_url}/api/v1/firmware{path}", **kw) as r:  # fmt: skip
        return r.status, None if r.status == 204 else await r.json()


def form(image: bytes, **fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("file", image, filename="fw-2.0.0.bin", content_type="application/octet-stream")
    for name, value in fields.items():
        data.add_field(name, value)
    return data


async def test_upload_bad_input_and_campaign_commands(server: RunningServer) -> None:
    status, problem = await call(server, "POST", "/artifacts", data=form(IMAGE, version="2.0.0", sha256="0" * 64))
    assert status == 400 and problem["error"].startswith("sha256: the file's SHA-256 is ")
    assert problem["fix"] == "check that the file is complete and the checksum is the image's"
    status, added = await call(server, "POST", "/artifacts",
                               data=form(IMAGE, version="2.0.0", sha256=hashlib.sha256(IMAGE).hexdigest()))  # fmt: skip
    assert status == 201 and added["size"] == len(IMAGE) and added["filename"] == "fw-2.0.0.bin"
    assert (server.app.settings.data_dir / "firmware" / f"{added['id']}.bin").read_bytes() == IMAGE
    assert [a["id"] for a in (await call(server, "GET", "/artifacts"))[1]] == [added["id"]]

    await add_chargers(server.app, "CP1", "CP2")
    for cid in ("CP1", "CP2"):
        await server.app.store.record_boot(
            cid, OcppVersion.V201, BootInfo(vendor="Acme", model="AC", firmware_version="1.0"), datetime.now(UTC)
        )
    for body, field in (
        ({"version": "3.0"}, "version: no artifact has version '3.0'"),
        ({"version": "2.0.0", "select": "model=Nope"}, "select: model=Nope matches no charger"),
        ({"version": "2.0.0", "window": "1am-5am"}, "window: '1am-5am' is not HH:MM-HH:MM"),
        ({"version": "2.0.0", "max_failures": "half"}, "max_failures: 'half' is neither"),
    ):
        status, problem = await call(server, "POST", "/campaigns", json=body)
        assert status == 422 and problem["error"].startswith(field), problem
        assert "\n" not in problem["error"] and problem["fix"]
    status, started = await call(
        server, "POST", "/campaigns", json={"version": "2.0.0", "canary": 1, "window": "01:00-05:00", "timezone": "UTC"}
    )
    assert status == 201 and started["progress"]["waiting"] == 2 and started["window"] == "01:00-05:00 UTC"
    cid = started["id"]
    assert (await call(server, "POST", f"/campaigns/{cid}/resume"))[0] == 409
    assert (await call(server, "POST", f"/campaigns/{cid}/pause"))[1]["state"] == "paused"
    assert (await call(server, "POST", f"/campaigns/{cid}/resume"))[1]["state"] == "running"
    assert (await call(server, "POST", f"/campaigns/{cid}/abort"))[1]["state"] == "aborted"
    status, detail = await call(server, "GET", f"/campaigns/{cid}")
    assert [n["text"] for n in detail["history"]][-3:] == ["paused", "resumed", "aborted"]
    assert (await call(server, "GET", "/campaigns/nope"))[0] == 404


async def test_downloads_expire_take_ranges_and_are_logged(server: RunningServer) -> None:
    _, added = await call(server, "POST", "/artifacts", data=form(IMAGE, version="2.0.0"))
    campaigns = server.app.campaigns
    assert campaigns is not None and campaigns.link is not None
    artifact = await campaigns.store.artifact(added["id"])
    assert artifact is not None
    url = campaigns.link(artifact, "CP1", datetime.now(UTC) + timedelta(minutes=5))
    gone = campaigns.link(artifact, "CP1", datetime.now(UTC) - timedelta(seconds=1))
    async with aiohttp.ClientSession() as http:  # no bearer token: the link is the permission
        async with http.get(url) as r:
            assert r.status == 200 and await r.read() == IMAGE
        async with http.get(url, headers={"Range": "bytes=100-199"}) as r:
            assert r.status == 206 and await r.read() == IMAGE[100:200]
            assert r.headers["Content-Range"] == f"bytes 100-199/{len(IMAGE)}"
        async with http.get(url, headers={"Range": "bytes=2000-"}) as r:
            assert r.status == 206 and await r.read() == IMAGE[2000:]
        async with http.get(gone) as r:
            assert r.status == 403 and (await r.json())["error"].startswith("link expired at")
        async with http.get(url.replace("/fw-2.0.0.bin", "/other.bin")) as r:
            assert r.status == 404
        token = url.split("/")[-2]
        async with http.get(url.replace(token, token[:-3] + "abc")) as r:
            assert r.status == 403
    _, detail = await call(server, "GET", f"/artifacts/{added['id']}")
    assert [(d["charger_id"], d["first_byte"], d["last_byte"], d["status"]) for d in detail["downloads"]] == [
        ("CP1", 0, len(IMAGE) - 1, 200),
        ("CP1", 100, 199, 206),
        ("CP1", 2000, len(IMAGE) - 1, 206),
    ]
    assert (await call(server, "DELETE", f"/artifacts/{added['id']}"))[0] == 204
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        assert r.status == 404
