"""The UpdateFirmware a campaign sends, in each OCPP version's words, and what the answer means.

- 1.6, unsigned image: ``UpdateFirmware`` {location, retrieveDate, retries, retryInterval}; the answer is empty
  and the statuses come in ``FirmwareStatusNotification``, without a requestId.
- 1.6, signed image (the security extension): ``SignedUpdateFirmware`` {requestId, retries, retryInterval,
  firmware{location, retrieveDateTime, signingCertificate, signature}}; answered with a status, followed by
  ``SignedFirmwareStatusNotification`` s carrying the requestId.
- 2.0.1: ``UpdateFirmware`` {requestId, retries, retryInterval, firmware{location, retrieveDateTime,
  signingCertificate, signature}} (the last two for a signed image); answered with a status, followed by
  ``FirmwareStatusNotification`` s carrying the requestId. No installDateTime: install as soon as it may.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.firmware.artifacts import Artifact

Payload = dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Order:
    """What to send one charger."""

    url: str
    at: datetime
    request_id: int
    retries: int
    retry_interval_s: int


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def update_firmware(version: OcppVersion, artifact: Artifact, order: Order) -> tuple[str, Payload]:
    """The action and payload to send."""
    if version is OcppVersion.V16 and not artifact.signed:
        return "UpdateFirmware", {"location": order.url, "retrieveDate": _time(order.at), "retries": order.retries,
                                  "retryInterval": order.retry_interval_s}  # fmt: skip
    firmware: Payload = {"location": order.url, "retrieveDateTime": _time(order.at)}
    if artifact.signed:
        firmware["signingCertificate"] = artifact.signing_certificate
        firmware["signature"] = artifact.signature
    action = "SignedUpdateFirmware" if version is OcppVersion.V16 else "UpdateFirmware"
    return action, {"requestId": order.request_id, "retries": order.retries,
                    "retryInterval": order.retry_interval_s, "firmware": firmware}  # fmt: skip


def answer_status(payload: Payload) -> str | None:
    """The status the charger answered (None: 1.6 UpdateFirmware, whose answer has none)."""
    status = payload.get("status")
    return status if isinstance(status, str) else None
