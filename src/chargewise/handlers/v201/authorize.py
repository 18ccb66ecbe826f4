from __future__ import annotations

from chargewise.handlers.context import Context, Payload
from chargewise.handlers.v201.id_token_info import id_token_info


async def handle(ctx: Context, payload: Payload) -> Payload:
    return {"idTokenInfo": id_token_info(await ctx.central.authorize_at(ctx.charger_id, payload["idToken"]["idToken"]))}
