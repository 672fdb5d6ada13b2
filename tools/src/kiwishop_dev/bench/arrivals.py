"""An open-loop load: actions start at a set rate, whether or not earlier ones have been answered.

A closed loop (``Load``'s users, each waiting for its answer) measures users ÷ latency once the PSP is slow:
120 users each spending 3 s in a confirm can never do more than 40 actions/s, whatever the shop could carry.
Here arrivals are a Poisson process at ``rate_per_s`` (exponential gaps, scheduled against the clock, so a
late driver catches up instead of drifting), each arrival one action as a task of its own; what the shop
carries in the window is then its capacity at that offer. At most ``max_in_flight`` actions run at once — an
arrival beyond that is counted as ``refused`` (the driver's own guard against unbounded memory under overload;
any refusal says the shop was overloaded).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class Arrivals:
    rate_per_s: float
    max_in_flight: int = 1000
    seed: int = 11
    offered: int = 0  # arrivals in the whole run (warm-up included)
    refused: int = 0  # arrivals not started: ``max_in_flight`` actions were running
    peak_in_flight: int = 0

    async def run(self, act: Callable[[], Awaitable[None]], stopping: asyncio.Event) -> None:
        """Start ``act()`` at the rate until ``stopping`` is set; then wait for the actions still running."""
        if self.rate_per_s <= 0:
            raise ValueError("an open loop needs a positive arrival rate")
        rng = random.Random(self.seed)
        running: set[asyncio.Task[None]] = set()
        due = time.monotonic()
        while not stopping.is_set():
            due += rng.expovariate(self.rate_per_s)
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                if stopping.is_set():
                    break
            self.offered += 1
            if len(running) >= self.max_in_flight:
                self.refused += 1
                continue
            task = asyncio.create_task(_run(act))
            running.add(task)
            task.add_done_callback(running.discard)
            self.peak_in_flight = max(self.peak_in_flight, len(running))
        if running:
            await asyncio.gather(*running)


async def _run(act: Callable[[], Awaitable[None]]) -> None:
    await act()
