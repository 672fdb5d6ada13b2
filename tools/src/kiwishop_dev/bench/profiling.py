"""Where the time goes: CPU seconds per process over a window (Linux /proc), and a py-spy sample of one
service process summarised by library and by function.

py-spy (the ``py-spy`` binary beside the interpreter, ``.venv/bin/py-spy``) comes with the developer tools'
distribution (tools/pyproject.toml); where it is missing, the report says so and keeps the per-process CPU table.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")

# a frame's file → the part of the stack it stands for (first match wins)
GROUPS = (  # py-spy names a frame "function (package/module.py:line)"
    ("(sqlalchemy/", "SQLAlchemy"),
    ("(asyncmy/", "asyncmy (MySQL protocol)"),
    ("(pydantic", "pydantic"),
    ("(fastapi/", "FastAPI"),
    ("(starlette/", "Starlette"),
    ("(uvicorn/", "uvicorn"),
    ("(aiohttp/", "aiohttp (PSP and catalog calls)"),
    ("(aiokafka/", "aiokafka"),
    ("(structlog/", "structlog"),
    ("(prometheus_client/", "prometheus_client"),
    ("(orjson", "orjson"),
    ("(kiwishop/", "kiwishop"),
    ("(asyncio/", "asyncio / uvloop"),
    ("(uvloop", "asyncio / uvloop"),
)


# frames under every request or task (the CLI, the request middleware): not worth a line in "inclusive"
PLUMBING = ("(kiwishop/cli.py", "(kiwishop/__main__.py", "(kiwishop/platform/web.py", "retry_on_conflict")


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far; 0.0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class CpuWindow:
    """CPU seconds each named process used between ``start()`` and ``stop()``."""

    pids: dict[str, int | None]
    used: dict[str, float] = field(default_factory=dict)
    _before: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._before = {name: self._read(name, pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        self.used = {name: self._read(name, pid) - self._before[name] for name, pid in self.pids.items()}
        return self.used

    @staticmethod
    def _read(name: str, pid: int | None) -> float:
        return own_cpu_seconds() if name == "load driver" else cpu_seconds(pid)


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: float, out: Path) -> Path | None:
    """Sample the process's CPU-active stacks (raw collapsed format) for ``seconds``; None without py-spy."""
    binary = py_spy()
    if binary is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        binary, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200", "--nonblocking",
        "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await proc.wait()
    return out if proc.returncode == 0 and await asyncio.to_thread(out.exists) else None


@dataclass
class Profile:
    samples: int
    by_group: list[tuple[str, float]]  # share of samples whose innermost known frame is in the group
    top_self: list[tuple[str, float]]  # innermost frames, share of samples
    inclusive: list[tuple[str, float]]  # kiwishop functions on the stack, share of samples


def _group(frame: str) -> str | None:
    if "(sqlalchemy/connectors/asyncio.py" in frame and "_execute" in frame:
        return "asyncmy driver (compiled: sampled in SQLAlchemy's adapter frame)"
    for needle, name in GROUPS:
        if needle in frame:
            return name
    return None


def summarise(raw: Path, top: int = 12) -> Profile:
    """Read py-spy's collapsed stacks (``frame;frame;… count``) into shares by library and by function."""
    groups: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaves[_short(frames[-1])] += count
        groups[next((g for f in reversed(frames) if (g := _group(f))), "other (interpreter, C)")] += count
        for name in {_function(f) for f in frames if "(kiwishop/" in f and not any(p in f for p in PLUMBING)}:
            ours[name] += count

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, n / total) for name, n in counter.most_common(top)] if total else []

    return Profile(total, share(groups), share(leaves), share(ours))


def _function(frame: str) -> str:
    """``func (kiwishop/order/confirm.py:66)`` → ``func (kiwishop/order/confirm.py)``: one entry per function."""
    return _short(frame).rsplit(":", 1)[0] + ")" if ":" in frame else _short(frame)


def _short(frame: str) -> str:
    """``func (path/to/site-packages/pkg/mod.py:12)`` → ``func (pkg/mod.py:12)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})" if where else name
