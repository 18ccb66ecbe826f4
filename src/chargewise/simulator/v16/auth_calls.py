"""The 1.6 calls of the local list, the cache and reservations (``local_auth.py``), in the dialect's route
table: SendLocalList, GetLocalListVersion, ClearCache, ReserveNow, CancelReservation."""

from __future__ import annotations

from typing import Protocol

from chargewise.ocpp.frames import Payload
from chargewise.simulator.clock import parse_iso
from chargewise.simulator.local_auth import Held, Listed, reservable
from chargewise.simulator.ports import Charger, Reply


class Speaker(Protocol):
    """The dialect these calls answer for (``v16/dialect.py``; not imported: it imports this module)."""

    fw: Charger


def send_local_list(d: Speaker, p: Payload, now: float) -> Reply:
    items: list[tuple[str, Listed | None]] = []
    for row in p.get("localAuthorizationList", []):
        info = row.get("idTagInfo")
        entry = None if info is None else Listed(
            status=info["status"], expires=parse_iso(info["expiryDate"]) if "expiryDate" in info else None,
            parent=info.get("parentIdTag"))  # fmt: skip
        items.append((row["idTag"], entry))
    local = d.fw.station.local_auth
    status = local.update(p["updateType"], p["listVersion"], items)
    d.fw.note(now, f"SendLocalList {p['updateType']} version {p['listVersion']} ({len(items)} entries): {status}")
    return Reply(payload={"status": status})


def get_local_list_version(d: Speaker, p: Payload, now: float) -> Reply:
    local = d.fw.station.local_auth
    return Reply(payload={"listVersion": local.version if local.enabled else -1})


def clear_cache(d: Speaker, p: Payload, now: float) -> Reply:
    d.fw.station.local_auth.clear_cache()
    d.fw.note(now, "authorization cache cleared")
    return Reply(payload={"status": "Accepted"})


def reserve_now(d: Speaker, p: Payload, now: float) -> Reply:
    station, connector = d.fw.station, p["connectorId"]
    if not 0 <= connector <= len(station.connectors):
        return Reply(payload={"status": "Rejected"})
    targets = station.connectors if connector == 0 else [station.connectors[connector - 1]]
    status = reservable(targets, any_one=connector == 0)
    if status == "Accepted":
        station.local_auth.reserve(Held(id=p["reservationId"], connector=connector, id_tag=p["idTag"],
                                        parent=p.get("parentIdTag"), expires=parse_iso(p["expiryDate"])))  # fmt: skip
        d.fw.note(now, f"reservation {p['reservationId']} on connector {connector} for {p['idTag']}")
        station.refresh(now)
    return Reply(payload={"status": status})


def cancel_reservation(d: Speaker, p: Payload, now: float) -> Reply:
    done = d.fw.station.local_auth.cancel(p["reservationId"])
    d.fw.station.refresh(now)
    return Reply(payload={"status": "Accepted" if done else "Rejected"})
