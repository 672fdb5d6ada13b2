"""A background job that runs one step every interval until the app stops (recovery, saga sweeper, …).

A step returns True when it did a full batch (more work is waiting), and then runs again at once. A
failing step is logged and retried at the next interval: a worker never dies of one bad pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("kiwishop.periodic")


class Periodic:
    def __init__(self, name: str, step: Callable[[], Awaitable[bool]], interval_s: float) -> None:
        self.name = name
        self._step = step
        self._interval = interval_s
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                more = await self._step()
            except Exception:
                log.exception("%s: step failed", self.name)
                more = False
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)
