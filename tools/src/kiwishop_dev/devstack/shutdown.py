"""Stopping the local stack in an order that loses nothing.

First every service at once (on SIGTERM each stops taking HTTP and drains its outbox to the broker), then
the broker, then the S3 store it writes to (SeaweedFS), then Redis, then MariaDB — each given time to flush.
``LocalStack.stop_all`` does it for the processes it started. ``stop_running_stack`` (`make stop`) asks the
supervisor to, and does it itself from ``.run/pids.json`` when the supervisor is gone; ``make run`` does the
same for whatever a supervisor that died left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

from kiwishop_dev.devstack.procs import running, stop_pids

INFRA = ("mariadb", "redis", "seaweedfs", "tansu")  # start order: stopped in reverse, after every service
TIMEOUT_S = {"tansu": 30.0, "seaweedfs": 30.0, "redis": 15.0, "mariadb": 60.0}
SERVICES_TIMEOUT_S = 45.0
_PROGRAM = {"mariadb": ("mariadbd", "mysqld"), "redis": ("redis-server",), "seaweedfs": ("weed",), "tansu": ("tansu",)}


def pids_file(run_dir: Path) -> Path:
    return run_dir / "pids.json"


def write_pids(run_dir: Path, pids: dict[str, int]) -> None:
    pids_file(run_dir).write_text(json.dumps(pids))


def _recorded(run_dir: Path) -> dict[str, int]:
    """The processes pids.json lists that still run what was recorded (a pid can be reused by then)."""
    path = pids_file(run_dir)
    try:
        written = path.stat().st_mtime
        pids = {str(name): int(pid) for name, pid in json.loads(path.read_text()).items()}
    except (FileNotFoundError, ValueError, AttributeError):
        return {}
    return {name: pid for name, pid in pids.items() if runs(pid, name) and _started_by(pid, written)}


def runs(pid: int, name: str) -> bool:
    """The process runs the program recorded as ``name`` (a service or the supervisor: kiwishop)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return any(program in argv for program in _PROGRAM.get(name, ("kiwishop",)))


def _started_by(pid: int, moment: float) -> bool:
    """The process started no later than ``moment`` (epoch s), as every process pids.json names did."""
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line[:5] == "btime")
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError, StopIteration):
        return False
    return boot + ticks / os.sysconf("SC_CLK_TCK") <= moment + 2.0


def stop_recorded(run_dir: Path, services_timeout_s: float = SERVICES_TIMEOUT_S) -> list[str]:
    """Stop, in order, what pids.json lists and still runs; forget the file. Returns the names stopped."""
    recorded = _recorded(run_dir)
    services = [pid for name, pid in recorded.items() if name not in INFRA]
    stop_pids(services, services_timeout_s)
    for name in reversed(INFRA):
        if name in recorded:
            stop_pids([recorded[name]], TIMEOUT_S[name])
    with contextlib.suppress(FileNotFoundError):
        pids_file(run_dir).unlink()
    return list(recorded)


def stop_running_stack(root: Path, timeout_s: float = 180.0) -> int:
    """``make stop``: ask the running supervisor to stop, and stop what it started if it cannot."""
    run_dir = root / ".run"
    pid_file = run_dir / "stack.pid"
    if not pid_file.exists() and not pids_file(run_dir).exists():
        print("kiwi-shop: no stack is running")
        return 0
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int(pid_file.read_text().strip() or 0)
        if pid > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and pid_file.exists() and running(pid):
                time.sleep(0.2)
    left = stop_recorded(run_dir)  # the supervisor did not finish its own cleanup (or was gone)
    if left:
        print(f"kiwi-shop: stopped what the supervisor left running: {', '.join(left)}")
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    print("kiwi-shop: stopped")
    return 0
