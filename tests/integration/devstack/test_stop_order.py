"""The local stack stops in an order that loses nothing: every service at once (each drains its outbox to the
broker), then the broker, then SeaweedFS, then Redis, then MariaDB, each once the one before has exited.
Both ways: the supervisor's own ``stop_all``, and ``make stop`` when the supervisor is gone (pids.json).

Stand-in processes (scripts named like the real programs) note when SIGTERM reached them and when they
exited, taking a while to flush as the real ones do."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kiwishop_dev.devstack import shutdown
from kiwishop_dev.devstack.config import LocalStackSettings
from kiwishop_dev.devstack.procs import ManagedProcess, running
from kiwishop_dev.devstack.stack import LocalStack

SERVICES = ("catalog", "order", "wallet")
INFRA = ("mariadb", "redis", "seaweedfs", "tansu")
PROGRAM = {"mariadb": "mariadbd", "redis": "redis-server", "seaweedfs": "weed", "tansu": "tansu"}
FLUSH_S = 0.4

STANDIN = """
import signal, sys, time
name, journal = sys.argv[1], sys.argv[2]
def note(event):
    with open(journal, "a") as f:
        f.write(f"{name} {event} {time.monotonic()}\\n")
def stop(*_):
    note("sigterm")
    time.sleep(FLUSH_S)
    note("exited")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
note("started")
while True:
    time.sleep(0.05)
""".replace("FLUSH_S", str(FLUSH_S))


class StandIn:
    """Has what ``LocalStack`` uses of a server: ``proc`` and ``stop()``."""

    def __init__(self, proc: ManagedProcess) -> None:
        self.proc = proc

    def stop(self) -> None:
        self.proc.stop()


def standin(tmp_path: Path, name: str) -> ManagedProcess:
    script = tmp_path / "bin" / (PROGRAM.get(name) or f"kiwishop-{name}")
    script.parent.mkdir(exist_ok=True)
    script.write_text(STANDIN)
    argv = [sys.executable, str(script), name, str(tmp_path / "journal")]
    proc = ManagedProcess(name, argv, tmp_path / "logs" / name)
    proc.start()
    return proc


def journal(tmp_path: Path, count: int) -> dict[tuple[str, str], float]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = (tmp_path / "journal").read_text().split() if (tmp_path / "journal").exists() else []
        events = {(lines[i], lines[i + 1]): float(lines[i + 2]) for i in range(0, len(lines), 3)}
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise AssertionError(f"the stand-ins noted {events}")


def assert_stopped_in_order(events: dict[tuple[str, str], float]) -> None:
    terms = [events[(s, "sigterm")] for s in SERVICES]
    exits = [events[(s, "exited")] for s in SERVICES]
    assert max(terms) < min(exits), "every service gets SIGTERM before any of them has finished"
    previous = max(exits)
    for name in reversed(INFRA):  # tansu, seaweedfs, redis, mariadb
        assert events[(name, "sigterm")] >= previous, f"{name} was stopped before the one before it exited"
        previous = events[(name, "exited")]


def test_the_supervisor_stops_every_service_at_once_then_broker_store_redis_and_mariadb(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, local=LocalStackSettings(services_stop_timeout_s=10))
    stack.run_dir.mkdir(parents=True)
    stack.infra_procs = [StandIn(standin(tmp_path, name)) for name in INFRA]  # type: ignore[misc]
    stack.service_procs = {name: standin(tmp_path, name) for name in SERVICES}
    journal(tmp_path, len(INFRA) + len(SERVICES))

    stack.stop_all()

    assert_stopped_in_order(journal(tmp_path, 3 * (len(INFRA) + len(SERVICES))))
    assert not (stack.run_dir / "pids.json").exists()


def test_make_stop_without_a_supervisor_stops_what_pids_json_lists_in_the_same_order(tmp_path: Path) -> None:
    run_dir = tmp_path / ".run"
    run_dir.mkdir()
    procs = {name: standin(tmp_path, name) for name in (*INFRA, *SERVICES)}
    journal(tmp_path, len(procs))
    shutdown.write_pids(run_dir, {name: proc.pid for name, proc in procs.items() if proc.pid})
    (run_dir / "stack.pid").write_text("0")  # the supervisor is gone

    assert shutdown.stop_running_stack(tmp_path) == 0

    assert_stopped_in_order(journal(tmp_path, 3 * len(procs)))
    assert [name for name, proc in procs.items() if proc.pid and running(proc.pid)] == []
    assert not (run_dir / "pids.json").exists()
    for proc in procs.values():
        proc.stop()  # reap
