"""What hot-catalog's handlers and its read need from outside, as Protocols (fakes stand in for them in unit
tests): the ranking in Redis, changed by one Lua script per event and read a page at a time
(``ranking.Ranking``), and catalog's product data over HTTP (``catalog_client.ProductCatalog``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from kiwishop.hot_catalog.domain import CanceledLine, ProductInfo, Ranked, TotalsUpdate


class RankingUpdates(Protocol):
    """Each call is atomic and idempotent: DUPLICATE for an event id applied before, STALE for totals whose
    version is not newer than the stored one (nothing changes), APPLIED otherwise (``ranking``'s codes)."""

    async def apply_totals(self, event_id: int, update: TotalsUpdate, now: dt.datetime) -> int:
        """A product's latest like or review totals."""

    async def apply_paid_lines(self, event_id: int, lines: dict[int, int], now: dt.datetime) -> int:
        """Paid order lines per product, added to what was paid before."""

    async def apply_canceled_lines(self, event_id: int, lines: Sequence[CanceledLine], now: dt.datetime) -> int:
        """Canceled paid lines, each taken out once (a line taken out before, by any event or by the rebuild,
        is not taken out again)."""


class RankingPages(Protocol):
    async def page(self, now: dt.datetime, start: int, count: int) -> list[Ranked]:
        """Entries ``start .. start+count-1`` by descending score, equal scores by product number."""


class ProductLookup(Protocol):
    async def lookup(self, product_nos: list[int]) -> dict[int, ProductInfo]:
        """The products catalog knows among ``product_nos`` (unknown ones are absent); AppError HOT0001 when
        catalog cannot answer."""
