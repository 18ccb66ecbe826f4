"""The web dashboard in headless Chromium (Debian's, driven by Playwright) against a real server and simulated
chargers: the login refuses a wrong token; the charger list updates live when a charger connects; a stop
clicked in the sessions page ends the simulated transaction; the site page draws each phase under the node's
limit; a weak-signal charger's page shows the doctor's finding. Nothing is loaded from outside the server.

Every page is also checked at a phone's width (nothing wider than the screen). Screenshots of the main pages
(desktop and phone widths) are written when ``$CHARGEWISE_SCREENSHOTS`` names a folder
(``CHARGEWISE_SCREENSHOTS=docs/screenshots`` refreshes the README's). One browser serves the module's tests.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from chargewise.bootstrap import App, Settings, start
from chargewise.charging.sitefile import parse_data
from chargewise.domain.model import OcppVersion, Registration
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.simulator.runner import Runner
from chargewise.simulator.templates import load_template
from tests.conftest import add_chargers
from tests.e2e.browser import Browser, launch
from tests.e2e.test_smart_charging import FollowClock
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import spec

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60), pytest.mark.asyncio(loop_scope="module")]
SPEED = 60.0
TOKEN = "dashboard-test-token"
LIMIT_A = 20.0
DESKTOP, PHONE = {"width": 1280, "height": 860}, {"width": 390, "height": 844}


def screenshots() -> Path | None:
    folder = os.environ.get("CHARGEWISE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) if folder else None


async def serve(data: Path, clock: FollowClock | None = None) -> App:
    site = parse_data({"site": {"name": "home"}, "nodes": {"main": {"kind": "main", "limit_a": LIMIT_A}},
                       "chargers": {"SITE-1": {"parent": "main", "max_a": 32}}})  # fmt: skip
    settings = Settings(
        data_dir=data, db_url=f"sqlite+aiosqlite:///{data / 'chargewise.db'}", host="127.0.0.1", ocpp_port=0,
        http_port=0, admin_token=TOKEN, sites=(site,), link=LinkSettings(call_timeout=5.0),
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=True, heartbeat_interval=60),
    )  # fmt: skip
    return await start(settings, clock=clock)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with launch() as running:
        yield running


def base(app: App) -> str:
    assert app.http is not None
    return f"http://127.0.0.1:{app.http.port}"


def simulated(app: App, charger_id: str, version: OcppVersion, **options: Any) -> Runner:
    began = time.time()
    template = options.pop("tpl", None) or load_template("esp32-generic")
    return Runner([spec(charger_id, version, tpl=template, start=began, **options)],
                  url=f"ws://127.0.0.1:{app.ocpp.port}/ocpp", speed=SPEED, start=began)  # fmt: skip


async def logged_in(browser: Browser, app: App, path: str = "/") -> Any:
    page = await browser.page(DESKTOP)
    await page.goto(base(app) + path)
    await page.fill("#token", TOKEN)
    await page.click("#login button")
    await page.wait_for_selector("#nav:not([hidden])")
    await page.wait_for_selector("#live.on")
    return page


async def test_login_refuses_a_wrong_token_and_the_list_updates_live(browser: Browser, tmp_path: Path) -> None:
    app = await serve(tmp_path / "data")
    runner = simulated(app, "LIVE-1", OcppVersion.V16, ev_at=None)
    try:
        page = await browser.page(DESKTOP)
        await page.goto(base(app) + "/")
        await page.fill("#token", "not-the-token")
        await page.click("#login button")
        error = page.locator("#login-error")
        await error.wait_for(state="visible")
        assert "refused this token (401" in await error.inner_text()
        await page.fill("#token", TOKEN)
        await page.click("#login button")
        await page.wait_for_selector("#live.on")
        await page.locator("#page", has_text="No charger yet").wait_for()
        await runner.start()  # the charger connects while the page is open: no reload
        card = page.locator('[data-charger="LIVE-1"][data-connected="true"]')
        await card.wait_for(timeout=15_000)
        await page.locator('[data-charger="LIVE-1"] .pill', has_text="Available").wait_for(timeout=15_000)
        await page.locator('[data-charger="LIVE-1"] .health', has_text="healthy").wait_for(timeout=10_000)
        await add_chargers(app, "PENDING-1", registration=Registration.PENDING)
        await page.reload()
        await page.click('[data-charger="PENDING-1"] button')
        await page.locator("#toast", has_text="Approve PENDING-1: done").wait_for()
        await until(lambda: app.directory.get("PENDING-1") is not None
                    and app.directory.get("PENDING-1").registration is Registration.ACCEPTED, 5)  # fmt: skip
        await page.locator('[data-charger="PENDING-1"] button').wait_for(state="detached")
        await browser.shoot(page, screenshots(), "chargers", DESKTOP, PHONE)
    finally:
        await runner.stop()
        await app.stop()
    assert browser.foreign == [], browser.foreign  # nothing fetched from anywhere but the server


async def test_the_site_page_draws_each_phase_under_the_node_limit(browser: Browser, tmp_path: Path) -> None:
    clock = FollowClock()  # profile times mean the same on both sides
    app = await serve(tmp_path / "data", clock)
    runner = simulated(app, "SITE-1", OcppVersion.V16, ev_at=1.0)
    clock.runner = runner
    await runner.start()
    try:
        page = await logged_in(browser, app, "/#/site/home")
        bars = page.locator('[data-node="main"] rect.bar')
        await page.wait_for_function(
            "() => [...document.querySelectorAll('[data-node=main] rect.bar')].some(b => Number(b.dataset.drawn) > 1)",
            timeout=20_000)  # fmt: skip
        # smart charging caps the 32 A car at the breaker: wait for the cap to reach the meter values
        await page.locator('[data-node="main"] .verdict', has_text="under the limit").wait_for(timeout=20_000)
        drawn = [(float(await b.get_attribute("data-drawn") or 0), float(await b.get_attribute("data-limit") or 0))
                 for b in await bars.all()]  # fmt: skip
        assert len(drawn) == 3 and max(a for a, _ in drawn) > 1, drawn
        assert all(a <= limit == LIMIT_A for a, limit in drawn), drawn
        allocated = await page.inner_text('#evses tr[data-evse="SITE-1/1"]')
        share = re.search(r"(\d+\.\d) A \u00d7 3", allocated)  # what smart charging gives it, on three phases
        assert share and 6 <= float(share[1]) <= LIMIT_A, allocated
        await browser.shoot(page, screenshots(), "site", DESKTOP, PHONE)
    finally:
        await runner.stop()
        await app.stop()


async def test_the_page_of_a_weak_signal_charger_shows_the_finding(browser: Browser, tmp_path: Path) -> None:
    app = await serve(tmp_path / "data")
    runner = simulated(app, "WEAK-1", OcppVersion.V201, scenario="weak-rssi", ev_at=None,
                       tpl=load_template("chargepoint-home-flex"))  # fmt: skip
    await runner.start()
    try:
        page = await logged_in(browser, app, "/#/charger/WEAK-1")
        finding = page.locator('#findings [data-cause="weak_signal"]')
        await finding.wait_for(timeout=20_000)  # the doctor is asked again as connections and statuses come
        text = await finding.inner_text()
        assert "weak signal" in text and "Fix:" in text and "dBm" in text
        await page.wait_for_selector("#timeline-chart circle.dot")  # the RSSI reports, drawn
        assert await page.inner_text("#trace") != ""  # the trace, or why it is not available
        await browser.shoot(page, screenshots(), "charger", DESKTOP, PHONE)
    finally:
        await runner.stop()
        await app.stop()


async def test_start_cap_and_reset_from_the_charger_page_and_a_stop_from_sessions(
    browser: Browser, tmp_path: Path
) -> None:
    app = await serve(tmp_path / "data")
    runner = simulated(app, "ACT-201", OcppVersion.V201, ev_at=1.0, tag=None)  # a car waits for a remote start
    await runner.start()
    try:
        await until(lambda: app.central.telemetry.is_online("ACT-201"), 10)
        page = await logged_in(browser, app, "/#/charger/ACT-201")
        page.on("dialog", lambda dialog: dialog.accept())
        for button, said in (
            ("#start", "RequestStartTransaction: Accepted"),
            ("#set-limit", "SetChargingProfile: Accepted"),
        ):
            await page.click(button)
            await page.locator("#toast", has_text=said).wait_for()
        await page.locator("[data-stop]").wait_for(timeout=15_000)  # the session it started, shown live
        [tx] = await app.store.list_transactions(charger_id="ACT-201")
        assert tx.active and tx.id_tag == "DASHBOARD"
        draw = runner.drivers[0].fw.connectors[0].draw
        await until(lambda: 0 < draw.amps <= 16, 10)  # the 32 A car now draws under the 16 A cap
        # the stop, from the sessions page
        await page.click("[data-nav=sessions]")
        row = page.locator("#sessions tr.active", has_text="ACT-201")
        await browser.shoot(page, screenshots(), "sessions", DESKTOP, PHONE)
        await row.locator("button.stop").click()
        await page.locator("#toast", has_text="RequestStopTransaction: Accepted").wait_for()
        await page.locator("#sessions tr", has_text="ACT-201").filter(has_text="Remote").wait_for(timeout=15_000)
        [tx] = await app.store.list_transactions(charger_id="ACT-201")
        assert not tx.active and tx.stop_reason == "Remote"
        assert await page.locator("#sessions tr.active").count() == 0
        await page.go_back()
        await page.click("text=Reset (soft)")
        await page.locator("#toast", has_text="Reset: Accepted").wait_for()
    finally:
        await runner.stop()
        await app.stop()
