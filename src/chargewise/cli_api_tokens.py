"""``chargewise api-tokens``: REST bearer tokens with a role, on the store ``--data-dir`` / ``--db`` name.

``create --role viewer --name NAME`` prints the secret once (``--json``: the token with its secret as JSON);
``list`` shows ids, names and roles (never secrets); ``revoke ID_OR_NAME`` ends a token (a running server
notices within two seconds).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime

from chargewise.cli_support import opened_store, print_json
from chargewise.domain.api_clients import ApiToken, Role
from chargewise.services.api_tokens import ApiTokens, parse_role


def add_arguments(parser: argparse.ArgumentParser, store_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """``store_options``: cli's ``--data-dir`` / ``--db`` adder (passed in: this module does not import cli)."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="a new token; its secret is printed this once")
    create.add_argument("--name", required=True, help="a name to tell it by (unique)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role],
                        help="viewer: reads; operator: + commands, sessions, modes; admin: everything")  # fmt: skip
    create.add_argument("--json", action="store_true", help="print the token (and secret) as JSON")
    listing = sub.add_parser("list", help="every token: id, name, role, created (never the secret)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = sub.add_parser("revoke", help="end a token at once (by id or name)")
    revoke.add_argument("token", metavar="ID_OR_NAME")
    for p in (create, listing, revoke):
        store_options(p)


def _data(token: ApiToken) -> dict[str, str]:
    return {"id": token.id, "name": token.name, "role": token.role.value,
            "created_at": token.created_at.isoformat().replace("+00:00", "Z")}  # fmt: skip


async def run(args: argparse.Namespace) -> int:
    from chargewise.adapters.sql import SqlStore
    from chargewise.adapters.sql.api_clients import SqlApiClientStore

    async with opened_store(args) as store:
        assert isinstance(store, SqlStore)  # opened_store opens SQL stores only
        tokens = ApiTokens(store=SqlApiClientStore(store), now=lambda: datetime.now(UTC))
        if args.action == "create":
            token, secret = await tokens.create(args.name, parse_role(args.role))
            if args.json:
                print_json({**_data(token), "secret": secret})
            else:
                print(f"{token.role.value} token {token.name!r} (id {token.id}); its secret, shown only now:")
                print(secret)
        elif args.action == "revoke":
            gone = await tokens.revoke(args.token)
            print(f"token {gone.name!r} (id {gone.id}) revoked")
        else:
            found = await tokens.tokens()
            if args.json:
                print_json([_data(t) for t in found])
            else:
                for t in found:
                    print(f"{t.id}  {t.role.value:8}  {_data(t)['created_at']}  {t.name}")
                if not found:
                    print("no tokens (the server's admin token works besides them)")
    return 0
