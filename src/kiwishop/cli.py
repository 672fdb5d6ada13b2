"""``kiwishop`` command line: serve one service, migrate, create topics, reconcile, dead letters, rebuilds.

Installed packages may add commands through the entry-point group ``kiwishop.commands``: each entry point is
a function ``register(subparsers)`` that adds its sub-commands (the developer tools add run, stop, bench and
drills that way; the production image has none of them).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from importlib.metadata import entry_points

PLUGIN_GROUP = "kiwishop.commands"


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kiwishop.platform.httpclient import SERVER_KEEP_ALIVE_S
    from kiwishop.platform.logs import configure_logging
    from kiwishop.services import definition

    service = definition(args.service)
    settings = service.settings()
    configure_logging(settings.infra.log_level, settings.infra.log_json)
    app = service.create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=10,
        timeout_keep_alive=SERVER_KEEP_ALIVE_S,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from kiwishop import services
    from kiwishop.ops import prepare
    from kiwishop.platform.settings import InfraSettings

    chosen = [s for s in services.definitions() if not args.service or s.name in args.service]
    applied = asyncio.run(prepare.migrate_all(chosen, InfraSettings(), seed=args.seed))
    for name, versions in applied.items():
        print(f"{name}: {', '.join(versions) if versions else 'up to date'}")
    return 0


def cmd_topics(_: argparse.Namespace) -> int:
    from kiwishop.ops import prepare
    from kiwishop.platform.settings import InfraSettings

    for topic in asyncio.run(prepare.create_topics(InfraSettings())):
        print(topic)
    return 0


def cmd_rebuild_order_query(_: argparse.Namespace) -> int:
    from kiwishop.order_query.rebuild import main as rebuild_main

    return rebuild_main()


def cmd_rebuild_hot_catalog(_: argparse.Namespace) -> int:
    from kiwishop.hot_catalog.rebuild import main as rebuild_main
    from kiwishop.ops.hot_catalog_sources import open_sources

    return rebuild_main(open_sources)


def cmd_reconcile(args: argparse.Namespace) -> int:
    from kiwishop.ops.reconcile import Sources, reconcile, render
    from kiwishop.order.settings import OrderSettings
    from kiwishop.platform.settings import InfraSettings
    from kiwishop.wallet.settings import WalletSettings

    infra = InfraSettings()
    order, wallet = OrderSettings(infra=infra), WalletSettings(infra=infra)
    sources = Sources(
        infra=infra,
        order_db=order.db_name,
        wallet_db=wallet.db_name,
        psp_url=order.toss_api_url,
        psp_secret=order.toss_secret_key.get_secret_value(),
        lag_bound_s=args.lag_bound,
        recovery_window_s=args.recovery_window,
    )
    findings = asyncio.run(reconcile(sources))
    print(render(findings))
    return 0 if findings.clean else 1


def cmd_dlt(args: argparse.Namespace) -> int:
    from kiwishop.ops.redrive import run_command
    from kiwishop.platform.settings import InfraSettings

    return run_command(
        InfraSettings(),
        args.dlt_command,
        args.topics,
        limit=args.limit or None,
        include_all=args.all,
        dry_run=args.dry_run,
    )


def cmd_account_add(args: argparse.Namespace) -> int:
    from kiwishop.ops.accounts import run

    return run(args.login_id, args.role, args.member_no, args.seller_no)


def add_plugin_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Let every installed ``kiwishop.commands`` entry point add its sub-commands; one that fails to load is
    reported and skipped, so the product's own commands keep working."""
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        try:
            entry.load()(sub)
        except Exception as exc:  # a broken or half-removed plugin must not take `kiwishop serve` down
            print(f"kiwishop: commands from {entry.value} not loaded: {exc!r}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The product's commands, then those of the installed plugins."""
    parser = argparse.ArgumentParser(prog="kiwishop", description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run one service (settings from KIWI_* environment variables)")
    serve.add_argument("service")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="create schemas and apply migrations")
    migrate.add_argument("--seed", action="store_true", help="also load the seed rows")
    migrate.add_argument("--service", action="append", help="only this service (repeatable)")
    migrate.set_defaults(func=cmd_migrate)

    sub.add_parser("topics", help="create every topic and its DLT").set_defaults(func=cmd_topics)

    sub.add_parser(
        "rebuild-order-query", help="recreate order-query's Redis read model by replaying kiwi-shop-payment"
    ).set_defaults(func=cmd_rebuild_order_query)
    sub.add_parser(
        "rebuild-hot-catalog", help="recreate hot-catalog's ranking from catalog-like, catalog-review and order"
    ).set_defaults(func=cmd_rebuild_hot_catalog)

    rec = sub.add_parser("reconcile", help="prove that PSP, orders and wallets agree (make reconcile)")
    rec.add_argument("--lag-bound", type=float, default=60.0, help="seconds a paid order may take to settle")
    rec.add_argument("--recovery-window", type=float, default=300.0, help="seconds an order may stay in doubt")
    rec.set_defaults(func=cmd_reconcile)

    dlt = sub.add_parser("dlt", help="dead-letter topics: list, show, redrive parked records (make dlt)")
    dlt.set_defaults(func=cmd_dlt, limit=0, all=False, dry_run=False)
    dlt_sub = dlt.add_subparsers(dest="dlt_command", required=True)
    dlt_list = dlt_sub.add_parser("list", help="every <topic>.DLT: records, not yet redriven, by group and error")
    dlt_list.add_argument("topics", nargs="*", help="only these topics (with or without .DLT)")
    show = dlt_sub.add_parser("show", help="print the parked records not yet redriven")
    show.add_argument("topics", nargs=1, metavar="TOPIC", help="kiwi-shop-payment or kiwi-shop-payment.DLT")
    show.add_argument("--limit", type=int, default=20, help="print at most N records (0: all)")
    show.add_argument("--all", action="store_true", help="also the records already redriven")
    redrive = dlt_sub.add_parser("redrive", help="re-publish the parked records to their original topic")
    redrive.add_argument("topics", nargs=1, metavar="TOPIC", help="kiwi-shop-payment or kiwi-shop-payment.DLT")
    redrive.add_argument("--dry-run", action="store_true", help="only print what would be re-published")

    account = sub.add_parser("account", help="identity's accounts (production: nothing is seeded)")
    account_sub = account.add_subparsers(dest="account_command", required=True)
    add = account_sub.add_parser("add", help="a new login; password from KIWI_NEW_ACCOUNT_PASSWORD or the terminal")
    add.add_argument("login_id")
    add.add_argument("--role", choices=["member", "seller", "ops"], required=True)
    add.add_argument("--member-no", type=int, help="the member a member account is")
    add.add_argument("--seller-no", type=int, help="the seller a seller account is")
    add.set_defaults(func=cmd_account_add)

    add_plugin_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "serve":
        from kiwishop.platform.logs import configure_logging

        configure_logging("WARNING", json=False)
    result: int = args.func(args)
    return result
