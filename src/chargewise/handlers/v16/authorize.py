from __future__ import annotations

from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v16.id_tag_info import id_tag_info


async def handle(ctx: Context, payload: Payload) -> Payload:
    return {"idTagInfo": id_tag_info(await ctx.central.authorize_at(ctx.charger_id, payload["idTag"]))}
