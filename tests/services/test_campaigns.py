"""The campaign service over the in-memory stores, with chargers that answer what a test says: bad requests,
the canary, waiting for idle chargers, unreached sends, and a service restarted mid-campaign."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.memory_firmware import MemoryFirmwareStore
from chargewise.domain.model import BootInfo, OcppVersion, Registration
from chargewise.domain.ports import NewTransaction
from chargewise.firmware.artifacts import Artifact, new_artifact
from chargewise.firmware.campaign import Stage, State
from chargewise.firmware.errors import FirmwareError
from chargewise.services.campaigns import CampaignRequest, Campaigns, progress
from chargewise.services.connections import CallOutcome, ChargerOffline
from tests.domain.clock import T0, SteppingClock


@dataclass
class Peer:
    version: OcppVersion


@dataclass
class Fleet:
    """Chargers as the service's ``Commands`` sees them: who is connected, and every command sent."""

    peers: dict[str, Peer] = field(default_factory=dict)
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)

    def get(self, charger_id: str) -> Peer | None:
        return self.peers.get(charger_id)

    async def call(self, charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome:
        if charger_id not in self.peers:
            raise ChargerOffline(f"charger {charger_id!r} is not connected")
        self.sent.append((charger_id, action, payload))
        return CallOutcome(action=action, payload=self.answer)


def link(artifact: Artifact, charger_id: str, until: datetime) -> str:
    return f"http://csms/firmware/{charger_id}/{artifact.filename}"


async def setup(n: int = 6) -> tuple[MemoryStore, MemoryFirmwareStore, Fleet, SteppingClock]:
    store, firmware, fleet, clock = MemoryStore(), MemoryFirmwareStore(), Fleet(), SteppingClock()
    for i in range(n):
        cid = f"CP{i}"
        version = OcppVersion.V16 if i % 2 else OcppVersion.V201
        await store.add_charger(cid, registration=Registration.ACCEPTED)
        await store.record_boot(cid, version, BootInfo(vendor="Acme", model="AC", firmware_version="1.0"), T0)
        fleet.peers[cid] = Peer(version)
    await firmware.put_artifact(new_artifact(sha256="ab" * 32, size=4, version="2.0", filename="fw-2.0.bin",
                                             added_at=T0))  # fmt: skip
    return store, firmware, fleet, clock


def service(store: MemoryStore, firmware: MemoryFirmwareStore, fleet: Fleet, clock: SteppingClock) -> Campaigns:
    return Campaigns(store=firmware, chargers=store, clock=clock, commands=fleet, link=link)


async def finish(campaigns: Campaigns, charger_id: str, request_id: int | None, version: str = "2.0") -> None:
    for status in ("Downloading", "Downloaded", "Installing"):
        await campaigns.firmware_status(charger_id, status, request_id, T0)
    await campaigns.booted(charger_id, version, None, T0)
    await campaigns.firmware_status(charger_id, "Installed", request_id, T0)


@pytest.mark.parametrize(("request_", "message"), [
    (CampaignRequest(version="9.9"), r"^--version: no artifact has version '9.9' \(add it with .*known: 2.0\)$"),
    (CampaignRequest(version="2.0", select="vendor=Nobody"), r"^--select: vendor=Nobody matches no charger"),
    (CampaignRequest(version="2.0", window="1-5"), r"^--window: '1-5' is not HH:MM-HH:MM \(write e.g."),
    (CampaignRequest(version="2.0", batch="x"), r"^--batch: 'x' is neither a count nor a percentage"),
])  # fmt: skip
async def test_bad_requests_name_the_field_and_the_fix(request_: CampaignRequest, message: str) -> None:
    campaigns = service(*await setup())
    with pytest.raises(FirmwareError, match=message):
        await campaigns.start(request_)


async def test_canary_batches_versions_and_a_restart() -> None:
    store, firmware, fleet, clock = await setup(6)
    first = service(store, firmware, fleet, clock)
    campaign = await first.start(CampaignRequest(version="2.0", canary=2, batch="2"))
    assert campaign.groups == 3
    await first.turn()
    assert [(cid, action) for cid, action, _ in fleet.sent] == [("CP0", "UpdateFirmware"), ("CP1", "UpdateFirmware")]
    v201 = fleet.sent[0][2]
    assert v201["firmware"]["location"] == "http://csms/firmware/CP0/fw-2.0.bin" and "requestId" in v201
    assert "retrieveDate" in fleet.sent[1][2] and "requestId" not in fleet.sent[1][2]  # 1.6, unsigned
    await finish(first, "CP0", v201["requestId"])
    await finish(first, "CP1", None)
    # the server restarts: a new service over the same stores goes on from there
    second = service(store, firmware, fleet, clock)
    await second.turn()
    assert [cid for cid, _, _ in fleet.sent[2:]] == ["CP2", "CP3"]
    _, targets, history = await second.show(campaign.id)
    assert progress(targets)["succeeded"] == 2 and progress(targets)["sent"] == 2
    assert any(n.text == "group 1 of 2 begins" for n in history)


async def test_a_failed_canary_halts_and_a_busy_charger_waits() -> None:
    store, firmware, fleet, clock = await setup(4)
    campaigns = service(store, firmware, fleet, clock)
    await store.start_transaction(NewTransaction(charger_id="CP0", evse_id=1, connector_id=1, id_tag="T",
                                                 started_at=T0, meter_start_wh=0, dedupe_key="k"))  # fmt: skip
    campaign = await campaigns.start(CampaignRequest(version="2.0", canary=2))
    await campaigns.turn()
    assert [cid for cid, _, _ in fleet.sent] == ["CP1"]  # CP0 is charging
    await campaigns.firmware_status("CP1", "InstallationFailed", None, T0)
    await campaigns.turn()
    halted = await campaigns.get(campaign.id)
    assert halted.state is State.HALTED and "more than --max-failures 0" in halted.reason
    await campaigns.turn()
    assert [cid for cid, _, _ in fleet.sent] == ["CP1"]  # nothing else touched
    with pytest.raises(FirmwareError, match=r"^ID: campaign .* is halted \(only a running campaign can be paused\)"):
        await campaigns.pause(campaign.id)
    assert (await campaigns.abort(campaign.id)).state is State.ABORTED
    await campaigns.turn()
    _, targets, _ = await campaigns.show(campaign.id)
    assert [t.stage for t in targets] == [Stage.SKIPPED, Stage.FAILED, Stage.SKIPPED, Stage.SKIPPED]


async def test_an_offline_charger_is_retried_and_a_rollback_fails() -> None:
    store, firmware, fleet, clock = await setup(1)
    campaigns = service(store, firmware, fleet, clock)
    campaign = await campaigns.start(CampaignRequest(version="2.0", canary=1, max_failures="1"))
    peer = fleet.peers.pop("CP0")
    await campaigns.turn()  # not connected: not even tried
    fleet.peers["CP0"] = peer
    await campaigns.turn()
    [(_, _, payload)] = fleet.sent
    await campaigns.firmware_status("CP0", "Installing", payload["requestId"], T0)
    await campaigns.booted("CP0", "1.0", "FirmwareUpdate", T0)  # came back on the old image
    await campaigns.turn()
    done = await campaigns.get(campaign.id)
    _, [target], _ = await campaigns.show(campaign.id)
    assert target.stage is Stage.FAILED and "rolled back" in target.detail
    assert done.state is State.COMPLETED and "1 failed within --max-failures 1" in done.reason
