"""``make run``: the whole system on the local default stack, in the foreground, until Ctrl-C or ``make stop``.

Starts MariaDB, Redis, SeaweedFS and the Tansu broker as plain processes (data under ``.data/``, logs under
``.run/logs/``) unless the configuration points at external servers, migrates and seeds every schema,
creates the topics, starts every service, restarts a service that dies, and on SIGINT/SIGTERM stops
everything it started in the order of ``shutdown``: every service at once, then the broker, SeaweedFS,
Redis, MariaDB. The broker keeps its data in SeaweedFS (``.data/seaweedfs``) unless
``KIWI_LOCAL_BROKER_STORAGE=memory`` (see ``config``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from kiwishop import services
from kiwishop.ops import prepare
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack import shutdown
from kiwishop_dev.devstack.config import LocalStackSettings
from kiwishop_dev.devstack.infra import MariaDB, RedisServer, SeaweedFS, SeaweedPorts, TansuBroker
from kiwishop_dev.devstack.procs import ManagedProcess, running, stop_together, wait_until
from kiwishop_dev.devstack.scratch import MEMORY_FETCH_MAX_WAIT_MS
from kiwishop_dev.devstack.shutdown import stop_running_stack
from kiwishop_dev.devstack.signing_key import local_signing_key

__all__ = ["LocalStack", "stop_running_stack"]

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
LOCAL_OPS_LOGIN = ("ops", "ops-password")  # identity's seed account (identity/migrations.py), local stack only
Server = MariaDB | RedisServer | SeaweedFS | TansuBroker


def _is_local(host: str | None) -> bool:
    return (host or "127.0.0.1") in LOOPBACK


class LocalStack:
    def __init__(self, root: Path, infra: InfraSettings | None = None, local: LocalStackSettings | None = None) -> None:
        self.root = root
        self.infra = infra or InfraSettings()
        self.local = local or LocalStackSettings()
        self.data = root / ".data"
        self.run_dir = root / ".run"
        self.logs = self.run_dir / "logs"
        self.pid_file = self.run_dir / "stack.pid"
        self.infra_procs: list[Server] = []
        self.service_procs: dict[str, ManagedProcess] = {}
        self.ports: dict[str, int] = {}
        self._stop = threading.Event()

    # -- lifecycle -----------------------------------------------------------------------------------
    def run(self) -> int:
        self._claim_pid_file()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self._stop.set())
        try:
            self._start_infra()
            applied = asyncio.run(self._prepare())
            for name, versions in applied.items():
                if versions:
                    print(f"  migrated {name}: {', '.join(versions)}")
            self._start_services()
            self._print_urls()
            self._supervise()
            return 0
        except Exception as exc:
            print(f"\nkiwi-shop: could not start: {exc}", file=sys.stderr)
            return 1
        finally:
            print("\nkiwi-shop: stopping …")
            self.stop_all()
            with contextlib.suppress(FileNotFoundError):
                self.pid_file.unlink()
            print("kiwi-shop: stopped.")

    def _claim_pid_file(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError, ValueError):
            other = int(self.pid_file.read_text().strip())
            if other != os.getpid() and running(other) and shutdown.runs(other, "supervisor"):
                raise SystemExit(f"a kiwi-shop stack is already running (pid {other}); `make stop` first")
        self.pid_file.write_text(str(os.getpid()))
        left = shutdown.stop_recorded(self.run_dir, self.local.services_stop_timeout_s)
        if left:  # an earlier supervisor died (kill -9): its children may still be shutting down
            print(f"  stopped what an earlier run left running: {', '.join(left)}", flush=True)

    def _start_infra(self) -> None:
        infra = self.infra
        if _is_local(infra.db_host):
            self._start(MariaDB(self.data / "mariadb", infra.db_port, infra.db_password.get_secret_value(), self.logs))
        redis = urlsplit(infra.redis_url)
        if _is_local(redis.hostname):
            self._start(RedisServer(self.data / "redis", redis.port or 6379, self.logs, persistent=True))
        host, _, port = infra.kafka_bootstrap_servers.split(",")[0].rpartition(":")
        if not _is_local(host):
            return
        if self.local.broker_storage == "memory":
            self._start(TansuBroker(int(port), self.logs))
            return
        ports = SeaweedPorts.from_base(self.local.seaweedfs_port)
        store = SeaweedFS(self.data / "seaweedfs", ports, self.logs)
        self._start(store)
        self._start(TansuBroker(int(port), self.logs, storage=store.storage_url, env=store.client_env()))

    def _local_broker_in_memory(self) -> bool:
        host = self.infra.kafka_bootstrap_servers.split(",")[0].rpartition(":")[0]
        return _is_local(host) and self.local.broker_storage == "memory"

    def _start(self, server: Server) -> None:
        print(f"  starting {server.proc.name} …", flush=True)
        server.start()
        self.infra_procs.append(server)
        self._write_pids()

    async def _prepare(self) -> dict[str, list[str]]:
        applied = await prepare.migrate_all(services.definitions(), self.infra, seed=True)
        await prepare.create_topics(self.infra)
        return applied

    def _start_services(self) -> None:
        for service in services.definitions():
            settings = service.settings_class(infra=self.infra)
            self.ports[service.name] = settings.port
            self.service_procs[service.name] = self._service_process(service.name)
            self.service_procs[service.name].start()
        self._write_pids()
        for name, port in self.ports.items():
            wait_until(functools.partial(self._ready, name, port), 60, f"{name} to be ready", interval_s=0.2)

    def _service_process(self, name: str) -> ManagedProcess:
        argv = [sys.executable, "-m", "kiwishop", "serve", name]
        env = self._service_env()
        if name == "identity" and "KIWI_IDENTITY_SIGNING_KEY" not in env:  # identity's alone, made once in .data
            env["KIWI_IDENTITY_SIGNING_KEY"] = local_signing_key(self.data)
        return ManagedProcess(name, argv, self.logs / f"{name}.log", env=env, cwd=self.root)

    def _service_env(self) -> dict[str, str]:
        env = dict(os.environ)
        emulator = self.data / "toss-emulator"
        emulator.mkdir(parents=True, exist_ok=True)
        env.setdefault("KIWI_TOSS_EMULATOR_DATA_PATH", str(emulator / "emulator.sqlite3"))
        if self._local_broker_in_memory():  # no listing to wait for: answer fast (Tansu waits the whole time)
            env.setdefault("KIWI_KAFKA_FETCH_MAX_WAIT_MS", str(MEMORY_FETCH_MAX_WAIT_MS))
        # The console's collection loop logs in as the local seed ops account (identity's seed, never production's)
        # and logs in again before each token expires.
        env.setdefault("KIWI_CONSOLE_SERVICE_LOGIN_ID", LOCAL_OPS_LOGIN[0])
        env.setdefault("KIWI_CONSOLE_SERVICE_PASSWORD", LOCAL_OPS_LOGIN[1])
        return env

    def _ready(self, name: str, port: int) -> bool:
        proc = self.service_procs[name]
        if not proc.alive():
            raise RuntimeError(f"{name} exited during start-up; see {proc.log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _print_urls(self) -> None:
        width = max(len(n) for n in self.ports) if self.ports else 8
        print("\nkiwi-shop is up:")
        for name, port in self.ports.items():
            print(f"  {name:<{width}}  http://localhost:{port}")
        print(f"  {'MariaDB':<{width}}  {self.infra.db_host}:{self.infra.db_port} (user {self.infra.db_user})")
        print(f"  {'Redis':<{width}}  {self.infra.redis_url}")
        print(f"  {'Kafka':<{width}}  {self.infra.kafka_bootstrap_servers}{self._broker_note()}")
        print("\n  try: curl 'localhost:8081/products?productNoList=1&productNoList=3'")
        print("       .venv/bin/kiwishop token --member 1   (a bearer token of a local seed account)")
        print(f"  logs: {self.logs}/   stop: Ctrl-C or `make stop`\n", flush=True)

    def _broker_note(self) -> str:
        store = next((s for s in self.infra_procs if isinstance(s, SeaweedFS)), None)
        if store is not None:
            return f" (data in {store.data_dir}, S3 {store.endpoint})"
        local = any(isinstance(s, TansuBroker) for s in self.infra_procs)
        return " (in memory: forgotten on stop)" if local else ""

    def _supervise(self) -> None:
        restarts: dict[str, list[float]] = {}
        while not self._stop.wait(1.0):
            for name, proc in self.service_procs.items():
                if proc.alive():
                    continue
                recent = [t for t in restarts.get(name, []) if time.monotonic() - t < 60]
                if len(recent) >= 5:
                    continue  # crash loop: leave it down, its log says why
                print(
                    f"  {name} exited (code {proc.popen.returncode if proc.popen else '?'}); restarting",
                    flush=True,
                )
                restarts[name] = [*recent, time.monotonic()]
                proc.start()
                self._write_pids()

    def stop_all(self) -> None:
        """Every service at once (each drains its outbox), then the broker, SeaweedFS, Redis, MariaDB."""
        stop_together(self.service_procs.values(), self.local.services_stop_timeout_s)
        self.service_procs.clear()
        self._write_pids()
        while self.infra_procs:
            self.infra_procs.pop().stop()
            self._write_pids()
        with contextlib.suppress(FileNotFoundError):
            shutdown.pids_file(self.run_dir).unlink()

    def _write_pids(self) -> None:
        pids = {s.proc.name: s.proc.pid for s in self.infra_procs if s.proc.pid}
        pids.update({p.name: p.pid for p in self.service_procs.values() if p.pid})
        shutdown.write_pids(self.run_dir, pids)
