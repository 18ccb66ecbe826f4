"""The smart-charging REST routes against a real server (no chargers connected): sites, live mode switches,
the site meter, demand-response events; refusals are Problems with the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from chargewise.bootstrap import Settings, start
from chargewise.charging.sitefile import parse

SITE = """
[site]
name = "home"
[meter]
node = "main"
includes_ev = true
[nodes.main]
kind = "main"
limit_a = 40
[chargers.wallbox]
parent = "main"
max_a = 32
"""


async def call(http: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    async with http.request(method, url, json=body, headers={"Authorization": "Bearer t"}) as r:
        return r.status, await r.json()


async def serve(tmp: Path, *, with_site: bool) -> Any:
    settings = Settings(data_dir=tmp, db_url=f"sqlite+aiosqlite:///{tmp / 'cw.db'}", host="127.0.0.1", ocpp_port=0,
                        http_port=0, admin_token="t", sites=(parse(SITE),) if with_site else ())  # fmt: skip
    return await start(settings)


async def test_sites_modes_meter_and_demand_response(tmp_path: Path) -> None:
    app = await serve(tmp_path, with_site=True)
    base = f"http://127.0.0.1:{app.http.port}/api/v1"
    try:
        async with aiohttp.ClientSession() as http:
            status, sites = await call(http, "GET", f"{base}/sites")
            assert status == 200 and [s["name"] for s in sites] == ["home"]
            status, site = await call(http, "GET", f"{base}/sites/home")
            assert status == 200 and site["nodes"][0]["limit_a"] == [40, 40, 40]
            assert [e["id"] for e in site["evses"]] == ["wallbox/1"] and site["evses"][0]["online"] is False
            status, problem = await call(http, "GET", f"{base}/sites/hom")
            assert status == 404 and "home" in problem["fix"]
            status, evse = await call(http, "PUT", f"{base}/sites/home/evses/wallbox/1/mode", {"mode": "solar"})
            assert status == 200 and evse["mode"] == "solar"
            assert app.charging.sites["home"].modes["wallbox/1"].value == "solar"
            status, problem = await call(http, "PUT", f"{base}/sites/home/evses/wallbox/1/mode", {"mode": "fast"})
            assert status == 422 and "min+solar" in problem["fix"]
            status, problem = await call(http, "PUT", f"{base}/sites/home/evses/wallbox/9/mode", {"mode": "now"})
            assert status == 404
            needs = {"energy_kwh": 20.0, "departure": "2030-01-05T07:30:00Z"}
            status, evse = await call(http, "PUT", f"{base}/sites/home/evses/wallbox/1/session", needs)
            assert status == 200 and evse["energy_kwh"] == 20.0 and evse["needs_from"] == "rest"
            assert evse["departure"] == "2030-01-05T07:30:00Z"
            status, problem = await call(http, "PUT", f"{base}/sites/home/evses/wallbox/1/session",
                                         {"energy_kwh": -3})  # fmt: skip
            assert status == 422 and "0 to 1000" in problem["fix"]
            status, site = await call(http, "PUT", f"{base}/sites/home/meter", {"power_w": 2300.0})
            assert status == 200 and site["nodes"][0]["drawn_kw"] == 2.3  # the meter at main counts everything
            status, problem = await call(http, "PUT", f"{base}/sites/home/meter", {"phase_a": [1, 2]})
            assert status == 422 and "three" in problem["error"]
            event = {"id": "peak-1", "node": "main", "start": "2030-01-05T16:00:00Z", "end": "2030-01-05T18:00:00Z",
                     "cap_kw": 4.0}  # fmt: skip
            status, held = await call(http, "POST", f"{base}/demand-response/events", event)
            assert status == 201 and held["opt"] == "optIn" and held["signal"] == {"cap_kw": 4.0}
            status, held = await call(
                http, "POST", f"{base}/demand-response/events", {**event, "id": "x", "node": "nope"}
            )
            assert status == 201 and held["opt"] == "optOut" and "nope" in held["opt_reason"]
            status, problem = await call(http, "POST", f"{base}/demand-response/events", {**event, "start": "soon"})
            assert status == 422 and "start" in problem["error"]
            status, events = await call(http, "GET", f"{base}/demand-response/events")
            assert status == 200 and {e["id"] for e in events} >= {"peak-1"}
    finally:
        await app.stop()


async def test_without_a_site_the_routes_say_smart_charging_is_off(tmp_path: Path) -> None:
    app = await serve(tmp_path, with_site=False)
    base = f"http://127.0.0.1:{app.http.port}/api/v1"
    try:
        async with aiohttp.ClientSession() as http:
            assert await call(http, "GET", f"{base}/sites") == (200, [])
            status, problem = await call(http, "GET", f"{base}/sites/home")
            assert status == 404 and "--site" in problem["fix"]
            event = {"id": "e", "node": "main", "start": "2030-01-05T16:00:00Z", "end": "2030-01-05T18:00:00Z",
                     "cap_kw": 4.0}  # fmt: skip
            status, problem = await call(http, "POST", f"{base}/demand-response/events", event)
            assert status == 409 and "--site" in problem["fix"]
    finally:
        await app.stop()


async def test_sites_are_put_planned_and_deleted_through_rest(tmp_path: Path) -> None:
    app = await serve(tmp_path, with_site=False)
    base = f"http://127.0.0.1:{app.http.port}/api/v1"
    document = {
        "nodes": {"main": {"kind": "main", "limit_a": 32}},
        "chargers": {"wb": {"parent": "main", "mode": "plan"}},
        "tokens": {"T1": {"mode": "now"}},
    }
    try:
        async with aiohttp.ClientSession() as http:
            status, site = await call(http, "PUT", f"{base}/sites/garage", document)
            assert status == 201 and site["name"] == "garage" and site["evses"][0]["mode"] == "plan"
            assert app.charging.sites["garage"].file.tokens["T1"].value == "now"
            document["nodes"]["main"]["limit_a"] = 40
            status, site = await call(http, "PUT", f"{base}/sites/garage", document)
            assert status == 200 and site["nodes"][0]["limit_a"] == [40, 40, 40]
            bad = {**document, "chargers": {"wb": {"parent": "mian"}}}
            status, problem = await call(http, "PUT", f"{base}/sites/garage", bad)
            assert (
                status == 422 and problem["error"] == "chargers.wb.parent: 'mian' is not a node (did you mean 'main'?)"
            )
            status, problem = await call(http, "PUT", f"{base}/sites/garage", {**document, "site": {"name": "x"}})
            assert status == 422 and problem["error"].startswith("site.name")
            status, problem = await call(
                http, "PUT", f"{base}/sites/garage", {**document, "tariff": {"file": "no.toml"}}
            )
            assert status == 422 and problem["error"].startswith("tariff.file")
            status, problem = await call(http, "PUT", f"{base}/sites/shop", document)
            assert status == 409 and "garage" in problem["error"]
            status, plan = await call(http, "GET", f"{base}/sites/garage/plan")
            assert status == 200 and plan["made_at"] is None and plan["evses"] == [] and plan["sessions"] == []
            status, gone = await call(http, "DELETE", f"{base}/sites/garage")
            assert status == 200 and gone == {"name": "garage", "removed": True} and app.charging.sites == {}
            status, _ = await call(http, "GET", f"{base}/sites/garage/plan")
            assert status == 404
            async with http.get(f"http://127.0.0.1:{app.http.port}/openapi.json") as r:
                paths = (await r.json())["paths"]
            assert {"put", "delete", "get"} <= set(
                paths["/api/v1/sites/{name}"]
            ) and "/api/v1/sites/{name}/plan" in paths
    finally:
        await app.stop()


async def test_what_rest_set_is_there_after_a_restart(tmp_path: Path) -> None:
    """A site put, a session's needs and a mode switched, each answered 200/201: the server stops and starts
    again on the same database (no --site), and all of it is there; a site deleted stays deleted."""
    document = {"nodes": {"main": {"kind": "main", "limit_a": 32}}, "chargers": {"wb": {"parent": "main"}}}
    needs = {"energy_kwh": 18.0, "departure": "2030-01-05T07:30:00Z"}
    app = await serve(tmp_path, with_site=False)
    base = f"http://127.0.0.1:{app.http.port}/api/v1"
    try:
        async with aiohttp.ClientSession() as http:
            assert (await call(http, "PUT", f"{base}/sites/garage", document))[0] == 201
            assert (await call(http, "PUT", f"{base}/sites/shed", document | {"chargers": {"x": {"parent": "main"}}}))[
                0
            ] == 201
            assert (await call(http, "PUT", f"{base}/sites/garage/evses/wb/1/session", needs))[0] == 200
            assert (await call(http, "PUT", f"{base}/sites/garage/evses/wb/1/mode", {"mode": "plan"}))[0] == 200
            assert (await call(http, "DELETE", f"{base}/sites/shed"))[0] == 200
    finally:
        await app.stop()
    app = await serve(tmp_path, with_site=False)
    base = f"http://127.0.0.1:{app.http.port}/api/v1"
    try:
        async with aiohttp.ClientSession() as http:
            status, sites = await call(http, "GET", f"{base}/sites")
            assert status == 200 and [s["name"] for s in sites] == ["garage"]
            status, site = await call(http, "GET", f"{base}/sites/garage")
            evse = site["evses"][0]
            assert (evse["id"], evse["mode"], evse["energy_kwh"], evse["needs_from"]) == ("wb/1", "plan", 18.0, "rest")
            assert evse["departure"] == "2030-01-05T07:30:00Z"
    finally:
        await app.stop()
