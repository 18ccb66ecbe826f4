"""The 2.0.1 calls of the local list, the cache and reservations (``local_auth.py``), in the dialect's route
table: SendLocalList, GetLocalListVersion, ClearCache, ReserveNow, CancelReservation."""

from __future__ import annotations

from typing import Protocol

from chargewise.ocpp.frames import Payload
from chargewise.simulator.clock import parse_iso
from chargewise.simulator.local_auth import Held, Listed, reservable
from chargewise.simulator.ports import Charger, Reply


class Speaker(Protocol):
    """The dialect these calls answer for (``v201/dialect.py``; not imported: it imports this module)."""

    fw: Charger


def send_local_list(d: Speaker, p: Payload, now: float) -> Reply:
    items: list[tuple[str, Listed | None]] = []
    for row in p.get("localAuthorizationList", []):
        info = row.get("idTokenInfo")
        entry = None if info is None else Listed(
            status=info["status"],
            expires=parse_iso(info["cacheExpiryDateTime"]) if "cacheExpiryDateTime" in info else None,
            parent=info.get("groupIdToken", {}).get("idToken"))  # fmt: skip
        items.append((row["idToken"]["idToken"], entry))
    status = d.fw.station.local_auth.update(p["updateType"], p["versionNumber"], items)
    d.fw.note(now, f"SendLocalList {p['updateType']} version {p['versionNumber']} ({len(items)} entries): {status}")
    return Reply(payload={"status": status})


def get_local_list_version(d: Speaker, p: Payload, now: float) -> Reply:
    local = d.fw.station.local_auth
    return Reply(payload={"versionNumber": local.version if local.enabled else 0})


def clear_cache(d: Speaker, p: Payload, now: float) -> Reply:
    d.fw.station.local_auth.clear_cache()
    d.fw.note(now, "authorization cache cleared")
    return Reply(payload={"status": "Accepted"})


def reserve_now(d: Speaker, p: Payload, now: float) -> Reply:
    station, evse = d.fw.station, p.get("evseId", 0)
    if not 0 <= evse <= len(station.connectors):
        return Reply(payload={"status": "Rejected"})
    targets = station.connectors if evse == 0 else [station.connectors[evse - 1]]
    status = reservable(targets, any_one=evse == 0)
    if status == "Accepted":
        token, group = p["idToken"]["idToken"], p.get("groupIdToken", {}).get("idToken")
        station.local_auth.reserve(Held(id=p["id"], connector=evse, id_tag=token, parent=group,
                                        expires=parse_iso(p["expiryDateTime"])))  # fmt: skip
        d.fw.note(now, f"reservation {p['id']} on EVSE {evse} for {token}")
        station.refresh(now)
    return Reply(payload={"status": status})


def cancel_reservation(d: Speaker, p: Payload, now: float) -> Reply:
    done = d.fw.station.local_auth.cancel(p["reservationId"])
    d.fw.station.refresh(now)
    return Reply(payload={"status": "Accepted" if done else "Rejected"})
