"""``make run``: the whole system on the local default stack, in the foreground, until Ctrl-C or ``make stop``.

Starts MariaDB, Redis and the Tansu broker as plain processes (data under ``.data/``, logs under
``.run/logs/``) unless the configuration points at external servers, migrates and seeds every schema,
creates the topics, starts every service, restarts a service that dies, and on SIGINT/SIGTERM stops
everything it started, services first.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from kiwishop.devstack import prepare, services
from kiwishop.devstack.infra import MariaDB, RedisServer, TansuBroker
from kiwishop.devstack.procs import ManagedProcess, wait_until
from kiwishop.platform.settings import InfraSettings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _is_local(host: str | None) -> bool:
    return (host or "127.0.0.1") in LOOPBACK


class LocalStack:
    def __init__(self, root: Path, infra: InfraSettings | None = None) -> None:
        self.root = root
        self.infra = infra or InfraSettings()
        self.data = root / ".data"
        self.run_dir = root / ".run"
        self.logs = self.run_dir / "logs"
        self.pid_file = self.run_dir / "stack.pid"
        self.infra_procs: list[MariaDB | RedisServer | TansuBroker] = []
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
        if self.pid_file.exists():
            try:
                other = int(self.pid_file.read_text().strip())
                os.kill(other, 0)
            except (ValueError, ProcessLookupError):
                pass
            else:
                raise SystemExit(f"a kiwi-shop stack is already running (pid {other}); `make stop` first")
        self.pid_file.write_text(str(os.getpid()))

    def _start_infra(self) -> None:
        infra = self.infra
        if _is_local(infra.db_host):
            self._start(MariaDB(self.data / "mariadb", infra.db_port, infra.db_password.get_secret_value(), self.logs))
        redis = urlsplit(infra.redis_url)
        if _is_local(redis.hostname):
            self._start(RedisServer(self.data / "redis", redis.port or 6379, self.logs, persistent=True))
        host, _, port = infra.kafka_bootstrap_servers.split(",")[0].rpartition(":")
        if _is_local(host):
            self._start(TansuBroker(int(port), self.logs))

    def _start(self, server: MariaDB | RedisServer | TansuBroker) -> None:
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
        return ManagedProcess(name, argv, self.logs / f"{name}.log", env=dict(os.environ), cwd=self.root)

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
        print(f"  {'Kafka':<{width}}  {self.infra.kafka_bootstrap_servers}")
        print("\n  try: curl 'localhost:8081/products?productNoList=1&productNoList=3'")
        print(f"  logs: {self.logs}/   stop: Ctrl-C or `make stop`\n", flush=True)

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
        for proc in reversed(list(self.service_procs.values())):
            proc.stop()
        for server in reversed(self.infra_procs):
            server.stop()
        self.service_procs.clear()
        self.infra_procs.clear()
        with contextlib.suppress(FileNotFoundError):
            (self.run_dir / "pids.json").unlink()

    def _write_pids(self) -> None:
        pids = {p.name: p.pid for p in self.service_procs.values() if p.pid}
        pids.update({s.proc.name: s.proc.pid for s in self.infra_procs if s.proc.pid})
        (self.run_dir / "pids.json").write_text(json.dumps(pids))


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting for its parent."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"


def stop_running_stack(root: Path, timeout_s: float = 90.0) -> int:
    """``make stop``: ask the running supervisor to stop, and clean up after it if it cannot."""
    run_dir = root / ".run"
    pid_file = run_dir / "stack.pid"
    if not pid_file.exists():
        print("kiwi-shop: no stack is running")
        return 0
    pid = int(pid_file.read_text().strip() or 0)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and pid_file.exists() and _running(pid):
        time.sleep(0.2)
    pids_file = run_dir / "pids.json"
    if pids_file.exists():  # the supervisor did not finish its own cleanup
        for child in json.loads(pids_file.read_text()).values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(child), signal.SIGKILL)
        pids_file.unlink()
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    print("kiwi-shop: stopped")
    return 0
