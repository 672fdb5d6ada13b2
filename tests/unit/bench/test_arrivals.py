"""The open loop: actions start without waiting for earlier ones, a cap refuses (and counts) arrivals beyond
it, and stopping waits for the actions still running."""

from __future__ import annotations

import asyncio

import pytest

from kiwishop_dev.bench.arrivals import Arrivals


async def test_actions_start_while_earlier_ones_are_still_running_and_stop_waits_for_them() -> None:
    stopping, release = asyncio.Event(), asyncio.Event()
    started: list[int] = []
    finished: list[int] = []

    async def act() -> None:
        started.append(len(started))
        if len(started) >= 5:
            stopping.set()  # five actions started (more, if the loop was behind its schedule), none answered yet
        await release.wait()
        finished.append(1)

    arrivals = Arrivals(rate_per_s=10_000)
    run = asyncio.create_task(arrivals.run(act, stopping))
    while not stopping.is_set():
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert not run.done()  # stopped arriving, still waiting for the five in flight
    assert finished == []
    release.set()
    await asyncio.wait_for(run, 5)
    assert len(started) == len(finished) == arrivals.offered >= 5
    assert arrivals.peak_in_flight == arrivals.offered  # every one of them was running at once
    assert arrivals.refused == 0


async def test_arrivals_beyond_the_cap_are_refused_and_counted() -> None:
    stopping, release = asyncio.Event(), asyncio.Event()
    started: list[int] = []
    arrivals = Arrivals(rate_per_s=10_000, max_in_flight=3)

    async def act() -> None:
        started.append(1)
        await release.wait()

    run = asyncio.create_task(arrivals.run(act, stopping))
    while arrivals.refused < 4:
        await asyncio.sleep(0.001)
    stopping.set()
    release.set()
    await asyncio.wait_for(run, 5)
    assert len(started) == 3 == arrivals.peak_in_flight
    assert arrivals.offered == 3 + arrivals.refused


async def test_an_open_loop_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="positive arrival rate"):
        await Arrivals(rate_per_s=0).run(lambda: asyncio.sleep(0), asyncio.Event())
