from __future__ import annotations

from chargewise.handlers.context import Payload, format_time
from chargewise.services.central import Authorization


def id_token_info(auth: Authorization) -> Payload:
    info: Payload = {"status": auth.status.value}
    if auth.expires_at is not None:
        info["cacheExpiryDateTime"] = format_time(auth.expires_at)
    if auth.parent_id_tag is not None:
        info["groupIdToken"] = {"idToken": auth.parent_id_tag, "type": "Central"}
    return info
