"""``kiwishop image-check`` (``make image-check``): builds deploy/Dockerfile with podman on this machine and runs
every service's container from it until each answers ``GET /health/ready`` with 200.

In order, each step timed: the Debian packages it needs (apt, as root, only what is missing); the Dockerfile's
base image, a debootstrap stand-in made once (``image.base``: no registry is reachable here); ``podman build``
with the Dockerfile unchanged; private MariaDB, Redis and broker (``ScratchServers``) migrated and with their
topics, as `make run` prepares its own; then every service of ``kiwishop.services`` in a container of the
image (``kiwishop serve <name>``, uid 10001, host network, a free port each). Everything it started is stopped
and removed at the end, also on a failure or Ctrl-C. Exit 1 when a container never gets ready, after its last
log lines. Logs of the base image and the build, and the private servers' data while it runs:
``.run/image-check/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from kiwishop import services
from kiwishop.ops import prepare
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.commands import add_image_check_arguments
from kiwishop_dev.devstack.fleet import infra_env
from kiwishop_dev.devstack.procs import free_port, running
from kiwishop_dev.devstack.scratch import ScratchServers
from kiwishop_dev.image.base import BASE_LABEL, dockerfile_base, make_base_image
from kiwishop_dev.image.containers import Container, ContainerFleet, sweep_leftovers, wiring_env
from kiwishop_dev.image.podman import Podman, PodmanError, ensure_packages

DOCKERFILE = Path("deploy/Dockerfile")
TAG = "kiwishop:check"
READY_TIMEOUT_S = 180.0
LOG_LINES = 40


@dataclass
class Options:
    root: Path
    tag: str = TAG
    ready_timeout_s: float = READY_TIMEOUT_S
    only: Sequence[str] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    rebuild_base: bool = False


@dataclass
class Times:
    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, what: str, seconds: float | None, note: str = "") -> None:
        self.rows.append((what, f"{seconds:6.1f} s  {note}" if seconds is not None else f"     —    {note}"))

    def print(self) -> None:
        if not self.rows:
            return
        width = max(len(what) for what, _ in self.rows)
        print("\nimage-check times:")
        for what, text in self.rows:
            print(f"  {what:<{width}}  {text}".rstrip())


class ImageCheck:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.logs = options.root / ".run" / "image-check"
        self.times = Times()
        self.podman = Podman()

    def run(self) -> int:
        try:
            return self._run()
        except (PodmanError, subprocess.CalledProcessError, TimeoutError, RuntimeError) as exc:
            print(f"\nimage-check: FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            self.times.print()

    def _run(self) -> int:
        if os.geteuid() != 0:  # rootless podman needs a setup of its own (subuids, a user session): not made here
            raise PodmanError("image-check runs podman as root: run it as root")
        began = time.monotonic()
        if installed := ensure_packages():
            self.times.add("Debian packages", time.monotonic() - began, " ".join(installed))
        if left := sweep_leftovers(self.podman):
            print(f"image-check: removed containers an earlier run left: {', '.join(left)}", flush=True)
        self._base_image()
        self._build()
        return self._check_containers()

    def _base_image(self) -> None:
        name = dockerfile_base(self.options.root / DOCKERFILE)
        if self.podman.image_id(name) and not self.options.rebuild_base:
            self.times.add(f"base image {name}", None, "cached in podman's storage")
            return
        print(f"image-check: making the base image {name} with debootstrap (once) …", flush=True)
        began = time.monotonic()
        make_base_image(self.podman, name, self.logs / "base.log")
        self.times.add(f"base image {name}", time.monotonic() - began, "debootstrap + import")

    def _build(self) -> None:
        print(f"image-check: podman build -f {DOCKERFILE} -t {self.options.tag} …", flush=True)
        began = time.monotonic()
        used = self.podman.build(
            self.options.root / DOCKERFILE, self.options.tag, self.options.root, self.logs / "build.log"
        )
        self.times.add(f"build {self.options.tag}", time.monotonic() - began)
        self.podman.remove_dangling(BASE_LABEL, keep=used)  # earlier builds: ~400 MB each, never used again

    def _check_containers(self) -> int:
        chosen = [s for s in services.definitions() if not self.options.only or s.name in self.options.only]
        unknown = set(self.options.only) - {s.name for s in chosen}
        if unknown:
            raise RuntimeError(f"no such service: {', '.join(sorted(unknown))}")
        with self._scratch() as scratch:
            began = time.monotonic()
            with ScratchServers(scratch) as servers:
                asyncio.run(_prepare(servers.infra))
                self.times.add("servers, migrations, topics", time.monotonic() - began)
                ports = {s.name: free_port() for s in chosen}
                env = {**infra_env(servers.infra), **wiring_env(services.definitions(), ports)}
                env.update({"KIWI_LOG_LEVEL": "INFO", "KIWI_LOG_JSON": "false", **self.options.extra_env})
                fleet = ContainerFleet(self.podman, self.options.tag, env)
                try:
                    return self._start_and_wait(fleet, ports)
                finally:
                    fleet.remove_all()

    @contextlib.contextmanager
    def _scratch(self) -> Iterator[Path]:
        """The private servers' folder, ``.run/image-check/servers-<pid>``, removed afterwards; one an earlier
        run left (killed) goes first."""
        for stale in self.logs.glob("servers-*"):
            pid = stale.name.removeprefix("servers-")
            if not (pid.isdigit() and running(int(pid))):
                shutil.rmtree(stale, ignore_errors=True)
        path = self.logs / f"servers-{os.getpid()}"
        path.mkdir(parents=True, exist_ok=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def _start_and_wait(self, fleet: ContainerFleet, ports: dict[str, int]) -> int:
        print(f"image-check: starting {len(ports)} containers: {', '.join(ports)} …", flush=True)
        for name, port in ports.items():
            fleet.start(name, port)
        not_ready = fleet.wait_ready(self.options.ready_timeout_s)
        for container in fleet.containers.values():
            self.times.add(container.service, container.ready_after_s, _verdict(container, ports))
        for container in not_ready:
            print(f"\nimage-check: {container.service} never got ready ({_verdict(container, ports)}); "
                  f"last {LOG_LINES} lines of its log:", file=sys.stderr)  # fmt: skip
            print(fleet.last_logs(container, LOG_LINES) or "(empty)", file=sys.stderr)
        if not_ready:
            print(f"\nimage-check: FAILED: not ready: {', '.join(c.service for c in not_ready)}", file=sys.stderr)
            return 1
        print(f"image-check: all {len(ports)} services answered /health/ready with 200 from {self.options.tag}")
        return 0


def _verdict(container: Container, ports: dict[str, int]) -> str:
    where = f"port {ports[container.service]}"
    if container.ready_after_s is not None:
        return f"ready ({where})"
    if container.ended:
        return f"container {container.ended}"
    return f"no 200 from {where} before the deadline; last answer: {container.last_answer or 'none'}"


async def _prepare(infra: InfraSettings) -> None:
    await prepare.migrate_all(services.definitions(), infra, seed=False)
    await prepare.create_topics(infra)


class Terminated(KeyboardInterrupt):
    """SIGTERM: the same cleanup as Ctrl-C."""


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def run(args: argparse.Namespace, root: Path) -> int:
    pairs = [item.split("=", 1) for item in args.env]
    if any(len(pair) != 2 or not pair[0] for pair in pairs):
        print("image-check: --env takes NAME=VALUE", file=sys.stderr)
        return 2
    options = Options(root, args.tag, args.timeout, args.service, dict(pairs), args.rebuild_base)
    if not (root / DOCKERFILE).is_file():
        print(f"image-check: no {DOCKERFILE} here; run it from the repository root", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return ImageCheck(options).run()
    except KeyboardInterrupt as exc:
        print("\nimage-check: interrupted; everything it started is stopped", file=sys.stderr)
        return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="image-check", description=__doc__.split("\n\n")[0])
    add_image_check_arguments(parser)
    return run(parser.parse_args(argv), Path.cwd())


if __name__ == "__main__":
    sys.exit(main())
