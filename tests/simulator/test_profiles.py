"""Which SetChargingProfile a charger accepts, and what a new profile replaces."""

from __future__ import annotations

from typing import Any

import pytest

from chargewise.simulator.profiles import Profile, ProfileError, ProfileStore, Purpose, from_v16, from_v201
from chargewise.simulator.templates import Quirks, load_template

T0 = 1_700_000_000.0


def v16(
    profile_id: int, purpose: str = "TxDefaultProfile", *, level: int = 0, unit: str = "A", **extra: Any
) -> dict[str, Any]:
    periods = extra.pop("periods", [{"startPeriod": 0, "limit": 16}])
    schedule = {"chargingRateUnit": unit, "chargingSchedulePeriod": periods}
    return {
        "chargingProfileId": profile_id, "stackLevel": level, "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative", "chargingSchedule": schedule, **extra,
    }  # fmt: skip


def install(store: ProfileStore, raw: dict[str, Any], evse: int, tx: str | None = None) -> Profile:
    return store.install(from_v16(raw, evse, T0), active_tx=tx)


@pytest.mark.parametrize(
    ("raw", "evse", "tx", "reason"),
    [
        (v16(1, "TxProfile"), 1, None, "needs a running transaction"),
        (v16(1, "TxProfile", transactionId=7), 1, "8", "not running"),
        (v16(1, "ChargePointMaxProfile"), 1, None, "belongs on the station"),
        (v16(1, level=9), 1, None, "stackLevel above 8"),
        (v16(1), 3, None, "no EVSE/connector 3"),
        (v16(1, periods=[{"startPeriod": 10, "limit": 6}]), 1, None, "start at 0"),
        (v16(1, chargingProfileKind="Recurring"), 1, None, "recurrencyKind"),
    ],
)
def test_the_spec_rules_reject(raw: dict[str, Any], evse: int, tx: str | None, reason: str) -> None:
    store = ProfileStore(evse_count=2, quirks=Quirks())
    with pytest.raises(ProfileError, match=reason):
        install(store, raw, evse, tx)


def test_juicebox_quirks_accept_only_tx_default_profiles_in_amps_up_to_stack_level_1() -> None:
    store = ProfileStore(evse_count=1, quirks=load_template("enelx-juicebox").quirks)
    for raw, reason in [
        (v16(1, "ChargePointMaxProfile"), "accepts only tx-default"),
        (v16(2, unit="W"), "only A"),
        (v16(3, level=2), "stackLevel above 1"),
    ]:
        with pytest.raises(ProfileError, match=reason):
            install(store, raw, 0)
    assert install(store, v16(4, level=1), 1).stack_level == 1


def test_same_id_replaces_and_1_6_same_slot_replaces() -> None:
    store = ProfileStore(evse_count=1, quirks=Quirks())
    install(store, v16(1, level=0), 1)
    install(store, v16(1, level=2), 1)  # same id
    install(store, v16(2, level=2), 1)  # same purpose/level/connector, other id
    assert [(p.id, p.stack_level) for p in store.profiles] == [(2, 2)]


def test_2_0_1_refuses_a_second_profile_in_the_same_slot_with_overlapping_validity() -> None:
    store = ProfileStore(evse_count=1, quirks=Quirks(), replace_same_slot=False)

    def raw(profile_id: int, **extra: Any) -> dict[str, Any]:
        schedule = [{"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}]}]
        return {"id": profile_id, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative", "chargingSchedule": schedule, **extra}  # fmt: skip

    store.install(from_v201(raw(1, validTo="2024-01-01T00:00:00Z"), 1, T0), active_tx=None)
    with pytest.raises(ProfileError, match="already has this purpose"):
        store.install(from_v201(raw(2), 1, T0), active_tx=None)
    store.install(from_v201(raw(3, validFrom="2024-01-01T00:00:00Z"), 1, T0), active_tx=None)  # no overlap
    assert [p.id for p in store.profiles] == [1, 3]


def test_tx_profiles_get_the_transaction_and_go_with_it() -> None:
    store = ProfileStore(evse_count=1, quirks=Quirks())
    assert install(store, v16(1, "TxProfile"), 1, tx="local:1").transaction_id == "local:1"
    install(store, v16(2), 1)
    store.end_transaction(1)
    assert [p.purpose for p in store.profiles] == [Purpose.TX_DEFAULT]


def test_clear_by_id_or_by_criteria() -> None:
    store = ProfileStore(evse_count=2, quirks=Quirks())
    install(store, v16(1, level=0), 1)
    install(store, v16(2, level=1), 1)
    install(store, v16(3, level=1), 2)
    install(store, v16(4, "ChargePointMaxProfile"), 0)
    assert store.clear(profile_id=9) == 0
    assert store.clear(profile_id=1) == 1
    assert store.clear(stack_level=1) == 2
    assert store.clear(purpose=Purpose.MAX, evse_id=0) == 1
    assert store.profiles == []
