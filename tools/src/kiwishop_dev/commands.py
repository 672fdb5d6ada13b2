"""The ``kiwishop`` sub-commands of the developer tools: run, stop, bench, drills, token, image-check.

Each ``register_*`` function is an entry point of the group ``kiwishop.commands`` (see tools/pyproject.toml),
called by ``kiwishop.cli`` with its sub-parsers. Only argparse is imported here: every ``kiwishop serve`` loads
this module too, so the tools themselves are imported when their command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _root() -> Path:
    return Path.cwd()


def cmd_run(_: argparse.Namespace) -> int:
    from kiwishop_dev.devstack.stack import LocalStack

    return LocalStack(_root()).run()


def cmd_stop(_: argparse.Namespace) -> int:
    from kiwishop_dev.devstack.stack import stop_running_stack

    return stop_running_stack(_root())


def cmd_bench(args: argparse.Namespace) -> int:
    from kiwishop_dev.bench.main import main as bench_main

    return int(bench_main(args.scenario, args.quick))


def cmd_drills(args: argparse.Namespace) -> int:
    from kiwishop_dev.bench.drills import main as drills_main

    return drills_main(args.quick)


def register_run(sub: SubParsers) -> None:
    sub.add_parser("run", help="run the whole system on the local stack (make run)").set_defaults(func=cmd_run)


def register_stop(sub: SubParsers) -> None:
    sub.add_parser("stop", help="stop a running local stack (make stop)").set_defaults(func=cmd_stop)


def register_bench(sub: SubParsers) -> None:
    bench = sub.add_parser("bench", help="benchmarks (make bench)")
    bench.add_argument("scenario", nargs="*", help="scenarios to run (default: all)")
    bench.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    bench.set_defaults(func=cmd_bench)


def register_drills(sub: SubParsers) -> None:
    drills = sub.add_parser("drills", help="fault drills under load on private servers, then reconcile (make drills)")
    drills.add_argument("--quick", action="store_true", help="the short version (as in make test)")
    drills.set_defaults(func=cmd_drills)


def cmd_token(args: argparse.Namespace) -> int:
    from kiwishop_dev.token import main as token_main

    return token_main(member=args.member, seller=args.seller, ops=args.ops, url=args.url)


def register_token(sub: SubParsers) -> None:
    token = sub.add_parser(
        "token", help="a bearer token of a local seed account from the running identity service (last line)"
    )
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", type=int, metavar="N", help="member N's (seed: 1-3)")
    who.add_argument("--seller", type=int, metavar="N", help="seller N's (seed: 1)")
    who.add_argument("--ops", action="store_true", help="the ops account's")
    token.add_argument("--url", help="the identity service (default http://127.0.0.1:8089, or KIWI_IDENTITY_PORT)")
    token.set_defaults(func=cmd_token)


def cmd_image_check(args: argparse.Namespace) -> int:
    from kiwishop_dev.image_check import run

    return run(args, _root())


def add_image_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this service (repeatable; default: every service)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one more variable for every container (repeatable), e.g. to try a setting",
    )
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds each container may take to get ready (default 180)"
    )
    parser.add_argument("--tag", default="kiwishop:check", help="the image to build and run (default kiwishop:check)")
    parser.add_argument("--rebuild-base", action="store_true", help="make the base image again even if it exists")


def register_image_check(sub: SubParsers) -> None:
    """Entry point ``image-check`` (tools/pyproject.toml); `make image-check` runs ``python -m
    kiwishop_dev.image_check``, which works without it."""
    check = sub.add_parser(
        "image-check", help="build deploy/Dockerfile with podman, run every service's container until ready"
    )
    add_image_check_arguments(check)
    check.set_defaults(func=cmd_image_check)
