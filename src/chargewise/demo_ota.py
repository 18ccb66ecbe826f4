"""The demo's OTA step: one firmware image and a staged campaign on two idle demo chargers, its progress
printed as it goes (a canary of one, then the other; each charger downloads the image from the demo's own
HTTP port, installs it, reboots and reports the new version). ``chargewise demo --no-ota`` leaves it out."""

from __future__ import annotations

import asyncio
import contextlib

from rich.console import Console

from chargewise.adapters.firmware_files import ImageFiles
from chargewise.bootstrap import App
from chargewise.firmware.campaign import State
from chargewise.firmware.errors import FirmwareError
from chargewise.services.artifacts import Artifacts
from chargewise.services.campaigns import ACTIVE, CampaignRequest, progress
from chargewise.simulator.site import DemoSite

VERSION = "1.3.0-demo"
IMAGE = f"version={VERSION}\n".encode() + b"chargewise demo firmware image\n" * 512
POLL_S = 2.0
WAIT_S = 120.0  # for two idle chargers to have booted


def _candidates(app: App, site: DemoSite) -> list[str]:
    """Two connected, idle, healthy esp32 chargers, one per OCPP version if there are."""
    idle = [d.fw for (placement, _), d in zip(site.placements, site.runner.drivers, strict=True)
            if placement.scenario == "healthy" and placement.template == "esp32-generic" and d.fw.registered
            and not d.fw.station.busy and d.fw.charger_id in app.registry]  # fmt: skip
    by_version = {fw.version: fw.charger_id for fw in idle}
    chosen = list(by_version.values())
    chosen += [fw.charger_id for fw in idle if fw.charger_id not in chosen]
    return chosen[:2]


async def firmware_step(app: App, site: DemoSite, console: Console) -> None:
    """Run the step; any failure is one printed line (the demo goes on)."""
    try:
        await _run(app, site, console)
    except (FirmwareError, TimeoutError) as exc:
        console.print(f"firmware: demo campaign not run ({exc})")


async def _two_idle(app: App, site: DemoSite) -> list[str]:
    """Look every POLL_S until two candidates have booted (TimeoutError after WAIT_S)."""
    for _ in range(int(WAIT_S / POLL_S)):
        chosen = _candidates(app, site)
        if len(chosen) == 2:
            return chosen
        await asyncio.sleep(POLL_S)
    raise TimeoutError(f"no two idle chargers within {WAIT_S:.0f} s")


async def _run(app: App, site: DemoSite, console: Console) -> None:
    campaigns = app.campaigns
    assert campaigns is not None
    chosen = await _two_idle(app, site)
    artifacts = Artifacts(store=campaigns.store, files=ImageFiles(app.settings.data_dir), clock=campaigns.clock)
    image = await artifacts.add(IMAGE, filename=f"esp32-{VERSION}.bin", version=VERSION, vendor="Generic")
    console.print(f"firmware: image {image.id} ({VERSION}, {image.size} bytes) added")
    selector = ",".join(f"charger={c}" for c in chosen)
    for old in await campaigns.store.campaigns(states=ACTIVE):  # a demo run stopped half-way left one behind
        if old.selector == selector and old.state is not State.ABORTED:
            await campaigns.abort(old.id)
    campaign = await campaigns.start(CampaignRequest(version=VERSION, select=selector, canary=1, batch="1"))
    console.print(f"firmware: campaign {campaign.id}: canary {chosen[0]}, then {chosen[1]}")
    shown = ""
    while True:
        current, targets, _ = await campaigns.show(campaign.id)
        counts = ", ".join(f"{n} {stage}" for stage, n in progress(targets).items() if n)
        line = f"firmware: campaign {current.id} {current.state.value}, group {current.group}: {counts}"
        if line != shown:
            console.print(line)
            shown = line
        if current.state is not State.RUNNING:
            console.print(f"firmware: {current.reason}")
            return
        await asyncio.sleep(POLL_S)


async def stop_step(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
