"""The read, ``GET /api/hot-products``: the ranking in rank order, joined with catalog's product data
(``HotList``, over ``ports.RankingPages`` and ``ports.ProductLookup``).

Reads the ranking a page of ``candidates`` ids at a time (highest score first, equal scores by product
number), keeps the ids catalog knows, and stops at ``list_size`` products — so ids catalog dropped do not
shorten the list while enough others are ranked. The rendered JSON is kept for ``hot_list_cache_ttl_s``
(0.5 s by default; one rebuild at a time), which is what lets one process serve thousands of reads per
second; a like shows up in the list within that time plus the event's trip through the broker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

from kiwishop.hot_catalog.ports import ProductLookup, RankingPages
from kiwishop.hot_catalog.schemas import HotProductListOut, HotProductOut
from kiwishop.platform import jsonutil

MAX_PAGES = 5


class HotList:
    def __init__(
        self,
        ranking: RankingPages,
        catalog: ProductLookup,
        *,
        size: int = 10,
        candidates: int = 30,
        cache_ttl_s: float = 0.5,
        clock: Callable[[], dt.datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ranking = ranking
        self._catalog = catalog
        self._size = size
        self._candidates = max(candidates, size)
        self._ttl = cache_ttl_s
        self._clock = clock
        self._monotonic = monotonic
        self._cached: tuple[float, bytes] | None = None
        self._lock = asyncio.Lock()

    async def render(self) -> bytes:
        """The list as JSON bytes (money with two decimals), from the short-lived cache when fresh."""
        if self._ttl <= 0:
            return await self._render_now()
        cached = self._cached
        if cached is not None and cached[0] > self._monotonic():
            return cached[1]
        async with self._lock:
            cached = self._cached
            if cached is not None and cached[0] > self._monotonic():
                return cached[1]
            body = await self._render_now()
            self._cached = (self._monotonic() + self._ttl, body)
            return body

    async def _render_now(self) -> bytes:
        return jsonutil.dumps(HotProductListOut(productList=await self.products()).model_dump())

    async def products(self) -> list[HotProductOut]:
        now = self._clock()
        shown: list[HotProductOut] = []
        for page_no in range(MAX_PAGES):
            page = await self._ranking.page(now, page_no * self._candidates, self._candidates)
            known = await self._catalog.lookup([r.product_no for r in page]) if page else {}
            for ranked in page:
                info = known.get(ranked.product_no)
                if info is None:
                    continue
                shown.append(
                    HotProductOut(
                        productNo=info.product_no,
                        sellerNo=info.seller_no,
                        productId=info.product_id,
                        name=info.name,
                        price=info.price,
                        score=ranked.score,
                        rank=len(shown) + 1,
                    )
                )
                if len(shown) == self._size:
                    return shown
            if len(page) < self._candidates:
                break
        return shown
