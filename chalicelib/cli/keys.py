"""`klipstar keys create|list|revoke`: API keys (the key is printed once; only its HMAC is stored)."""

from __future__ import annotations

import argparse
import json
import sys

from ..data.keys import PLANS, KeyConfigError, create_key, list_keys, revoke_key
from .errors import CliError


def _create(args: argparse.Namespace) -> int:
    minted = create_key(args.account, mode=args.mode, plan=args.plan)
    record = minted.record
    if args.json:
        print(json.dumps({"key": minted.key, "key_id": record.key_id, "account": record.account_id,
                          "mode": record.mode, "plan": args.plan}))
    else:
        print(minted.key)
        print(f"key_id {record.key_id} · account {record.account_id} · {record.mode} · plan {args.plan or 'unchanged'}",
              file=sys.stderr)
        print("Store this key now: it is shown only once.", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = [
        {"key_id": k.key_id, "prefix": k.prefix + "…", "mode": k.mode, "created_at": k.created_at.isoformat(),
         "revoked_at": k.revoked_at.isoformat() if k.revoked_at else ""}
        for k in list_keys(args.account)
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    from .table import format_table

    print(format_table(rows, [("key_id", "key id"), ("prefix", "prefix"), ("mode", "mode"),
                              ("created_at", "created"), ("revoked_at", "revoked")]))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    record = revoke_key(args.account, args.key_id)
    if record is None:
        print(f"klipstar: error: account {args.account!r} has no key {args.key_id!r}", file=sys.stderr)
        return 1
    print(f"revoked {record.key_id} ({record.prefix}…)")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """Dispatch `klipstar keys <action>`."""
    if getattr(args, "local", False):
        from ..local.runtime import attach_to_running_service

        attach_to_running_service()
    elif getattr(args, "stage", None):
        from .stack import use_stage

        use_stage(args.stage, args.region, args.stack)
    if getattr(args, "init_tables", False):
        from ..data.models import create_tables

        create_tables()
    try:
        return {"create": _create, "list": _list, "revoke": _revoke}[args.keys_command](args)
    except KeyConfigError as exc:
        raise CliError(str(exc)) from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `keys` on the `klipstar` command."""
    keys = subparsers.add_parser("keys", help="create, list and revoke API keys")
    keys.add_argument("--init-tables", action="store_true", help="create missing DynamoDB tables first")
    keys.add_argument("--local", action="store_true",
                      help="act on the `klipstar serve` running in this directory (its embedded AWS and pepper)")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    deployed = argparse.ArgumentParser(add_help=False)
    deployed.add_argument("--stage", choices=("dev", "prod"), help="a deployed stage: tables and pepper from its stack")
    deployed.add_argument("--region", default="us-east-1", help="region of the deployed stack (with --stage)")
    deployed.add_argument("--stack", default=None, help="stack name (default klipstar-<stage>)")
    create = actions.add_parser("create", parents=[deployed],
                                help="mint a key (printed once) for an account, creating it if needed")
    create.add_argument("--account", required=True, help="account id, e.g. acme")
    create.add_argument("--plan", choices=PLANS, default=None, help="set the account's plan (new accounts: spark)")
    create.add_argument("--mode", choices=("live", "test"), default="live", help="ks_live_ or ks_test_ key")
    create.add_argument("--json", action="store_true", help="print JSON")
    listing = actions.add_parser("list", parents=[deployed], help="list an account's keys (never the keys themselves)")
    listing.add_argument("--account", required=True)
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = actions.add_parser("revoke", parents=[deployed], help="revoke a key by its key id")
    revoke.add_argument("--account", required=True)
    revoke.add_argument("key_id", help="key_… as shown by `keys list`")
    keys.set_defaults(handler=cmd_keys)
