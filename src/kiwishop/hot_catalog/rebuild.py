"""Rebuild the ranking from the sources of truth (``kiwishop rebuild-hot-catalog``).

For a ranking that is wrong or gone: a ``FLUSHALL``, a lost record, a record parked in a DLT. It clears
every key of the ranking, then replays what catalog-like, catalog-review and order hold — each
product's like totals and review totals with the row's version, every paid order's paid lines (SUCCESS,
and CANCELED: paid, then given back) and every canceled line — through the same ``APPLY`` script the
consumer runs. The live consumer keeps running, and the result is exact all the same:

- the clear is one step for ``APPLY``: a fence key holds events back until the last key is gone
  (``Ranking.clear``), so no event lands on a half-cleared ranking;
- the sources are read after the clear, so every event the clear wiped is in them;
- a paid order is applied under its PAYMENT_CONFIRM's eventId (``confirm_event_id``): whichever of the
  replay and the consumer comes second is a duplicate, so each order counts once;
- a canceled line is taken out under its own marker (its paymentOrderNo), the one a PAYMENT_CANCELED sets
  for each of its lines: whichever comes second changes nothing, so each line is taken out once — and a
  cancel of a paid order the replay counts is always taken out (by the replay, or by its event after the
  clear: a line canceled after the read reaches the consumer after the clear);
- totals are guarded by their version: the newer of the row and any event wins.

The service stays up meanwhile; ``GET /api/hot-products`` shows a partial list until the replay ends.
The sources are passed in (``Sources``): reading other services' schemas is the operations tooling's
business (``kiwishop.ops.hot_catalog_sources``), not this service's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

from kiwishop.hot_catalog.domain import CanceledLine, TotalsUpdate
from kiwishop.hot_catalog.ranking import APPLIED, DUPLICATE, Ranking, ScriptCall
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.platform.clock import utcnow_aware
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings


@dataclass(frozen=True)
class PaidOrder:
    event_id: int | None  # its PAYMENT_CONFIRM's eventId (None: order never recorded one)
    lines: dict[int, int]  # productNo → paid lines (every line of the paid order, canceled ones included)


class Sources(Protocol):
    """The rows to replay, each kind read when asked (after the clear)."""

    def canceled_lines(self) -> AsyncIterator[CanceledLine]:
        """The canceled lines of the paid orders ``paid_orders`` counts."""
        ...

    def paid_orders(self) -> AsyncIterator[PaidOrder]: ...

    def like_totals(self) -> AsyncIterator[TotalsUpdate]: ...

    def review_totals(self) -> AsyncIterator[TotalsUpdate]: ...


OpenSources = Callable[[InfraSettings], AbstractAsyncContextManager[Sources]]


@dataclass
class RebuildResult:
    cleared_keys: int = 0
    canceled_lines: int = 0
    paid_orders: int = 0
    paid_already_applied: int = 0  # applied by the live consumer after the clear
    paid_without_event_id: int = 0  # skipped: cannot be told apart from a later delivery
    totals: int = 0
    totals_superseded: int = 0  # a newer version had already arrived through the consumer
    products: set[int] = field(default_factory=set)
    ranked: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"hot-catalog ranking rebuilt in {self.seconds:.1f}s: cleared {self.cleared_keys} keys, replayed "
            f"{self.paid_orders} paid orders ({self.paid_already_applied} already applied live), "
            f"{self.canceled_lines} canceled lines and "
            f"{self.totals} like/review totals ({self.totals_superseded} superseded) over "
            f"{len(self.products)} products; {self.ranked} products ranked"
        )
        if self.paid_without_event_id:
            text += f"; SKIPPED {self.paid_without_event_id} paid orders without confirm_event_id"
        return text


class _Replay:
    """Script calls sent a pipeline at a time; outcomes counted into the result."""

    def __init__(self, ranking: Ranking, result: RebuildResult, batch_size: int) -> None:
        self._ranking = ranking
        self._result = result
        self._batch_size = batch_size
        self._calls: list[tuple[str, ScriptCall]] = []

    async def add(self, kind: str, call: ScriptCall) -> None:
        self._calls.append((kind, call))
        if len(self._calls) >= self._batch_size:
            await self.flush()

    async def flush(self) -> None:
        calls, self._calls = self._calls, []
        if not calls:
            return
        outcomes = await self._ranking.run([call for _, call in calls])
        for (kind, _), outcome in zip(calls, outcomes, strict=True):
            if kind == "paid":
                self._result.paid_orders += 1
                self._result.paid_already_applied += int(outcome == DUPLICATE)
            elif kind == "canceled":
                self._result.canceled_lines += 1
            else:
                self._result.totals += 1
                self._result.totals_superseded += int(outcome != APPLIED)


async def replay(
    ranking: Ranking, sources: Sources, result: RebuildResult, *, batch_size: int, clock: Callable[[], dt.datetime]
) -> None:
    """Canceled lines first, then paid orders, then totals: after the cancels every score only grows, so
    trimming to ``ranking_capacity`` keeps the same products as it would with the final scores."""
    calls = _Replay(ranking, result, batch_size)
    async for line in sources.canceled_lines():
        result.products.add(line.product_no)
        await calls.add("canceled", ranking.canceled_call(None, [line], clock()))
    async for order in sources.paid_orders():
        result.products.update(order.lines)
        if order.event_id is None:
            result.paid_without_event_id += 1
            continue
        await calls.add("paid", ranking.paid_call(order.event_id, order.lines, clock()))
    for totals in (sources.like_totals(), sources.review_totals()):
        async for update in totals:
            result.products.add(update.product_no)
            await calls.add("totals", ranking.totals_call(None, update, clock()))
    await calls.flush()


async def rebuild(
    settings: HotCatalogSettings,
    sources: Sources,
    *,
    redis: Redis | None = None,
    batch_size: int = 500,
    clock: Callable[[], dt.datetime] = utcnow_aware,
) -> RebuildResult:
    """Clear the ranking of ``settings.key_prefix``, then replay ``sources`` into it (see the module)."""
    started = time.perf_counter()
    result = RebuildResult()
    client = redis or create_redis(settings.infra.redis_url)
    try:
        ranking = Ranking.for_settings(client, settings)
        result.cleared_keys = await ranking.clear()
        await replay(ranking, sources, result, batch_size=batch_size, clock=clock)
        result.ranked = int(await client.zcard(ranking.list_key(clock())))
    finally:
        if redis is None:
            await client.aclose()
    result.seconds = time.perf_counter() - started
    return result


def main(open_sources: OpenSources) -> int:
    """``kiwishop rebuild-hot-catalog``: settings from the KIWI_* / KIWI_HOT_CATALOG_* environment, the
    sources opened by the caller for this run. Exit status 1 when a paid order could not be replayed."""
    settings = HotCatalogSettings()

    async def run() -> RebuildResult:
        async with open_sources(settings.infra) as sources:
            return await rebuild(settings, sources)

    result = asyncio.run(run())
    print(result.summary())
    return 1 if result.paid_without_event_id else 0
