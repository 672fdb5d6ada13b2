"""Wallet's background loop: the held-settlement sweeper.

Every ``interval_s`` it releases the held lines of sellers whose wallet exists now (``handlers.release_held``,
re-run on conflicts) and reports what is still held — the ``kiwi_wallet_held_settlements`` gauge, next to
``held_settlements`` rows without ``released_at`` and reconcile's "held" column.
"""

from __future__ import annotations

import functools
import time

from prometheus_client import CollectorRegistry, Gauge

from kiwishop.platform.db import Database, retry_on_conflict
from kiwishop.platform.periodic import Periodic
from kiwishop.wallet import queries
from kiwishop.wallet.handlers import release_held
from kiwishop.wallet.ports import Ledger


class HeldSettlementSweeper:
    """``start()``/``stop()`` run ``step`` every ``interval_s``; ``sweep_once`` is one pass without the gauge."""

    def __init__(
        self,
        db: Database,
        ledger: Ledger,
        *,
        registry: CollectorRegistry | None = None,
        interval_s: float = 2.0,
        batch_size: int = 100,
    ) -> None:
        self._db = db
        self._ledger = ledger
        self._batch = batch_size
        self._gauge = (
            Gauge(
                "kiwi_wallet_held_settlements",
                "Paid lines held for sellers without a wallet (count, and amount in won)",
                ["measure"],
                registry=registry,
            )
            if registry is not None
            else None
        )
        self._reported_at = 0.0
        self._worker = Periodic("held-settlements", self.step, interval_s)

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def step(self) -> bool:
        """One pass and, at most every 5 s, the gauge; True when a full batch was found (more may wait)."""
        sellers = await self.sweep_once()
        await self._report()
        return sellers >= self._batch

    async def sweep_once(self) -> int:
        """Release every seller found ready; returns how many sellers were found."""
        sellers = await queries.sellers_to_release(self._db, self._batch)
        for seller_no in sellers:
            await retry_on_conflict(functools.partial(release_held, self._ledger, seller_no))
        return len(sellers)

    async def _report(self) -> None:
        if self._gauge is None or time.monotonic() - self._reported_at < 5.0:
            return
        self._reported_at = time.monotonic()
        count, amount = await queries.open_holds(self._db)
        self._gauge.labels("lines").set(count)
        self._gauge.labels("amount").set(float(amount))
