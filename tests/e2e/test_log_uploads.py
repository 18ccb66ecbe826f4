"""Logs from simulated chargers of both versions land in the data directory through the upload endpoint
chargewise hosts, and are downloadable through REST; a forged or expired upload URL is refused."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from chargewise.domain.model import OcppVersion
from chargewise.simulator.templates import load_template
from tests.conftest import RunningServer
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import Runner, spec

TEMPLATES = {OcppVersion.V16: ("esp32-generic", "enelx-juicebox"), OcppVersion.V201: ("esp32-generic",
                                                                                         "dual-ac-15118")}  # fmt: skip


def ten_chargers(start: float) -> list:  # type: ignore[type-arg]
    specs = []
    for n in range(10):
        version = OcppVersion.V16 if n % 2 == 0 else OcppVersion.V201
        tpl = load_template(TEMPLATES[version][n // 2 % 2])
        specs.append(spec(f"LOG{n}", version, tpl=tpl, ev_at=None, start=start))
    return specs


async def test_logs_of_ten_chargers_of_both_versions_are_stored_and_downloadable(server: RunningServer) -> None:
    start = time.time()
    runner = Runner(ten_chargers(start), url=server.ocpp_url, speed=30, start=start)
    await runner.start()
    try:
        await until(lambda: all(f"LOG{n}" in server.app.registry for n in range(10))
                    and all(d.fw.registered for d in runner.drivers), 20)  # fmt: skip
        async with aiohttp.ClientSession(headers=server.headers) as http:
            requested = []
            for n in range(10):
                kind = "security" if n == 9 else "diagnostics"
                async with http.post(f"{server.http_url}/api/v1/chargers/LOG{n}/logs", json={"kind": kind}) as r:
                    assert r.status == 201, await r.text()
                    requested.append(await r.json())
            assert {r["action"] for r in requested} == {"GetDiagnostics", "GetLog"}
            assert all(r["status"] == "Accepted" for r in requested), requested

            async def uploaded() -> list[dict[str, object]]:
                async with http.get(f"{server.http_url}/api/v1/logs") as r:
                    return [x for x in await r.json() if x["status"] == "Uploaded" and x["file"]]

            for _ in range(200):  # 20 s at most
                if len(await uploaded()) == 10:
                    break
                await asyncio.sleep(0.1)
            done = {x["charger_id"]: x for x in await uploaded()}
            for n in range(10):
                record = done[f"LOG{n}"]
                async with http.get(f"{server.http_url}{record['download']}") as r:
                    assert r.status == 200
                    text = (await r.read()).decode()
                # the simulator names its log after the command: diagnostics (1.6 GetDiagnostics), log, security
                header = "security" if n == 9 else ("diagnostics" if n % 2 == 0 else "log")
                assert text.startswith(f"# {header} log of LOG{n}")
                assert "connected" in text  # the charger's event log
                assert [h["status"] for h in record["history"]][-2:] == ["Uploading", "Uploaded"]
                on_disk = server.app.settings.data_dir / "logs" / f"{record['id']}.data"
                assert on_disk.read_text() == text
            # the 2.0.1 security log came through GetLog SecurityLog with its requestId
            assert done["LOG9"]["kind"] == "security" and done["LOG9"]["request_id"] > 0
    finally:
        await runner.stop()
    assert runner.errors() == []


async def test_an_upload_url_with_a_forged_signature_or_past_its_expiry_is_refused(server: RunningServer) -> None:
    from datetime import UTC, datetime, timedelta

    from chargewise.bootstrap import upload_key
    from chargewise.fleet.upload_tokens import sign

    key = upload_key(server.app.settings.data_dir)
    expired = sign(key, "abc", datetime.now(UTC) - timedelta(seconds=1))
    forged = sign(b"another key", "abc", datetime.now(UTC) + timedelta(hours=1))
    async with aiohttp.ClientSession() as http:
        for token in (expired, forged, "nonsense"):
            async with http.put(f"{server.http_url}/uploads/{token}", data=b"x") as r:
                assert r.status == 403
                problem = await r.json()
                assert problem["fix"] and ("expired" in problem["error"] or "signature" in problem["error"]
                                           or "malformed" in problem["error"])  # fmt: skip


async def test_a_raw_put_with_a_name_and_a_multipart_post_are_both_taken(server: RunningServer) -> None:
    from datetime import UTC, datetime, timedelta

    from chargewise.bootstrap import upload_key
    from chargewise.fleet.log_requests import LogKind, LogRequest
    from chargewise.fleet.upload_tokens import sign

    logs = server.app.central.log_uploads
    assert logs is not None and logs.base_url == server.http_url
    now = datetime.now(UTC)
    key = upload_key(server.app.settings.data_dir)
    async with aiohttp.ClientSession() as http:
        for n, how in enumerate(("put", "post")):
            logs.archive.put(LogRequest(id=f"raw{n}", charger_id="EXT", kind=LogKind.DIAGNOSTICS, request_id=0,
                                        action="GetDiagnostics", requested_at=now,
                                        expires_at=now + timedelta(hours=1)))  # fmt: skip
            url = f"{server.http_url}/uploads/{sign(key, f'raw{n}', now + timedelta(hours=1))}"
            if how == "put":
                sent = http.put(f"{url}/diag-2026.tar.gz", data=b"\x00\x01binary")
            else:
                form = aiohttp.FormData()
                form.add_field("file", b"\x00\x01binary", filename="../../etc/diag.log")
                sent = http.post(url, data=form)
            async with sent as r:
                assert r.status == 201, await r.text()
                assert (await r.json())["size"] == 8
        async with (
            aiohttp.ClientSession(headers=server.headers) as api,
            api.get(f"{server.http_url}/api/v1/logs?charger_id=EXT") as r,
        ):
            names = sorted(x["file"]["name"] for x in await r.json())
        assert names == ["diag-2026.tar.gz", "diag.log"]  # the path a charger gave is cut off
