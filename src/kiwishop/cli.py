"""``kiwishop`` command line: serve one service, run or stop the local stack, migrate, create topics, bench."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path


def _root() -> Path:
    return Path.cwd()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kiwishop.devstack.services import definition
    from kiwishop.platform.logs import configure_logging

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
    )
    return 0


def cmd_run(_: argparse.Namespace) -> int:
    from kiwishop.devstack.stack import LocalStack

    return LocalStack(_root()).run()


def cmd_stop(_: argparse.Namespace) -> int:
    from kiwishop.devstack.stack import stop_running_stack

    return stop_running_stack(_root())


def cmd_migrate(args: argparse.Namespace) -> int:
    from kiwishop.devstack import prepare, services
    from kiwishop.platform.settings import InfraSettings

    chosen = [s for s in services.definitions() if not args.service or s.name in args.service]
    applied = asyncio.run(prepare.migrate_all(chosen, InfraSettings(), seed=args.seed))
    for name, versions in applied.items():
        print(f"{name}: {', '.join(versions) if versions else 'up to date'}")
    return 0


def cmd_topics(_: argparse.Namespace) -> int:
    from kiwishop.devstack import prepare
    from kiwishop.platform.settings import InfraSettings

    for topic in asyncio.run(prepare.create_topics(InfraSettings())):
        print(topic)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from kiwishop.bench.main import main as bench_main

    return int(bench_main(args.scenario, args.quick))


def cmd_drills(args: argparse.Namespace) -> int:
    from kiwishop.bench.drills import main as drills_main

    return drills_main(args.quick)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiwishop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run one service (settings from KIWI_* environment variables)")
    serve.add_argument("service")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("run", help="run the whole system on the local stack (make run)").set_defaults(func=cmd_run)
    sub.add_parser("stop", help="stop a running local stack (make stop)").set_defaults(func=cmd_stop)

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

    bench = sub.add_parser("bench", help="benchmarks (make bench)")
    bench.add_argument("scenario", nargs="*", help="scenarios to run (default: all)")
    bench.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    bench.set_defaults(func=cmd_bench)

    drills = sub.add_parser("drills", help="fault drills under load on private servers, then reconcile (make drills)")
    drills.add_argument("--quick", action="store_true", help="the short version (as in make test)")
    drills.set_defaults(func=cmd_drills)

    args = parser.parse_args(argv)
    if args.command != "serve":
        from kiwishop.platform.logs import configure_logging

        configure_logging("WARNING", json=False)
    result: int = args.func(args)
    return result
