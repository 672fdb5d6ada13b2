"""Child processes that die with their parent and stop politely (SIGTERM, then SIGKILL), alone or together."""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    os.setsid()


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            terminate(self.popen.pid)
            try:
                self.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(timeout=5)
        self.popen = None

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=5)


class PortBusyError(RuntimeError):
    pass


def require_free(port: int, what: str) -> None:
    if port_open(port):
        raise PortBusyError(f"port {port} for {what} is already in use (is another stack running? `make stop`)")


def terminate(pid: int) -> None:
    """SIGTERM, then SIGCONT: a paused process (SIGSTOP, a debugger) only acts on the SIGTERM once continued,
    and would otherwise wait out the whole timeout before its SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)


def stop_together(procs: Iterable[ManagedProcess], timeout_s: float) -> None:
    """SIGTERM to every one at once, then wait for all of them (one shared deadline), SIGKILL the rest."""
    running = [p for p in procs if p.popen is not None and p.popen.poll() is None]
    for proc in running:
        assert proc.popen is not None
        terminate(proc.popen.pid)
    deadline = time.monotonic() + timeout_s
    for proc in running:
        proc.stop(timeout_s=max(0.1, deadline - time.monotonic()))  # already signalled: this waits, then kills


def running(pid: int) -> bool:
    """True while the process exists, other than as a zombie waiting for its parent. A multi-threaded process
    whose main thread is already a zombie still runs (and holds its ports) until its last thread is gone."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = len(os.listdir(f"/proc/{pid}/task")) if state == "Z" else 1
    except (ProcessLookupError, FileNotFoundError, PermissionError):
        return False
    return state != "Z" or threads > 1


def stop_pids(pids: Iterable[int], timeout_s: float) -> None:
    """Like ``stop_together`` for processes that are not our children (``make stop`` after the supervisor died)."""
    alive = [pid for pid in pids if running(pid)]
    for pid in alive:
        terminate(pid)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(running(pid) for pid in alive):
        time.sleep(0.1)
    for pid in alive:
        if running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(count: int, low: int = 20000, high: int = 30000, *, offset: int = 0) -> int:
    """The first of ``count`` consecutive free ports (and, with ``offset``, the same block ``offset`` above it
    free too), for a server whose ports are numbered from a base."""
    bases = list(range(low, high - count, count))
    start = secrets.randbelow(len(bases))
    for base in bases[start:] + bases[:start]:
        ports = [base + i for i in range(count)]
        if all(_bindable(port) and (not offset or _bindable(port + offset)) for port in ports):
            return base
    raise RuntimeError(f"no {count} consecutive free ports between {low} and {high}")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
