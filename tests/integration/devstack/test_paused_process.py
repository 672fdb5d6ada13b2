"""A paused process (SIGSTOP) still stops gracefully: the SIGTERM is followed by a SIGCONT."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from kiwishop_dev.devstack.procs import ManagedProcess, wait_until

GRACEFUL = (
    "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(7));"
    " pathlib.Path(sys.argv[1]).touch(); time.sleep(600)"
)


def test_a_paused_process_gets_its_sigterm_instead_of_waiting_for_the_sigkill(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    proc = ManagedProcess("paused", [sys.executable, "-c", GRACEFUL, str(ready)], tmp_path / "paused.log")
    proc.start()
    popen = proc.popen
    assert popen is not None
    try:
        wait_until(ready.exists, 30, "the child to install its SIGTERM handler")
        os.kill(popen.pid, signal.SIGSTOP)
        proc.stop(timeout_s=30)
    finally:
        proc.kill()
    assert popen.returncode == 7  # its own SIGTERM handler ran: not killed (-9) after the timeout
