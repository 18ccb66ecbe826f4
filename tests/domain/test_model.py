"""The version-neutral model: token expiry, transaction energy, version subprotocols."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargewise.domain.model import IdToken, OcppVersion, TokenStatus, Transaction

from .clock import T0


# ---------------------------------------------------------------------------------------------- IdToken
@pytest.mark.parametrize(
    ("status", "expires_in", "expected"),
    [
        (TokenStatus.ACCEPTED, None, TokenStatus.ACCEPTED),  # no expiry: accepted for ever
        (TokenStatus.ACCEPTED, timedelta(seconds=1), TokenStatus.ACCEPTED),
        (TokenStatus.ACCEPTED, timedelta(0), TokenStatus.EXPIRED),  # the expiry instant itself is expired
        (TokenStatus.ACCEPTED, -timedelta(days=1), TokenStatus.EXPIRED),
        (TokenStatus.BLOCKED, -timedelta(days=1), TokenStatus.BLOCKED),  # blocked stays blocked, expired or not
        (TokenStatus.INVALID, timedelta(days=1), TokenStatus.INVALID),
        (TokenStatus.EXPIRED, None, TokenStatus.EXPIRED),
    ],
)
def test_token_status_at(status: TokenStatus, expires_in: timedelta | None, expected: TokenStatus) -> None:
    token = IdToken(id_tag="TAG", status=status, expires_at=None if expires_in is None else T0 + expires_in)
    assert token.status_at(T0) is expected


def test_token_defaults_to_accepted_without_expiry_or_parent() -> None:
    token = IdToken(id_tag="TAG")
    assert (token.status, token.expires_at, token.parent_id_tag) == (TokenStatus.ACCEPTED, None, None)


# ---------------------------------------------------------------------------------------------- Transaction
def transaction(**changes: object) -> Transaction:
    fields: dict[str, object] = {
        "id": 1, "charger_id": "CP-1", "evse_id": 1, "connector_id": 1, "id_tag": "TAG", "started_at": T0,
        "meter_start_wh": 1000.0,
    }  # fmt: skip
    fields.update(changes)
    return Transaction(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "energy"),
    [
        ({"meter_stop_wh": 3500.0}, 2500.0),
        ({"last_meter_wh": 1800.0}, 800.0),  # still running: the last register reading so far
        ({"last_meter_wh": 9999.0, "meter_stop_wh": 3000.0}, 2000.0),  # the stop reading wins over the last one
        ({}, None),  # no reading after the start yet
        ({"meter_start_wh": None, "meter_stop_wh": 3000.0}, None),  # unknown start: unknown energy
        ({"meter_stop_wh": 900.0}, 0.0),  # a register that went backwards (meter swap) never gives negative energy
    ],
)
def test_transaction_energy_from_register(changes: dict[str, object], energy: float | None) -> None:
    assert transaction(**changes).energy_wh == energy


def test_transaction_is_active_until_stopped() -> None:
    tx = transaction()
    assert tx.active
    tx.stopped_at = T0 + timedelta(hours=1)
    assert not tx.active


# ---------------------------------------------------------------------------------------------- OcppVersion
def test_version_subprotocols() -> None:
    assert OcppVersion.V16.subprotocol == "ocpp1.6"
    assert OcppVersion.V201.subprotocol == "ocpp2.0.1"
    assert OcppVersion("2.0.1") is OcppVersion.V201
