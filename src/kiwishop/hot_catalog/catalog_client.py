"""Product details (seller, id, name, price) from catalog's ``GET /products?productNoList=``, kept in-process
for ``product_cache_ttl_s`` — including "catalog does not know this id", so a ranked id that catalog
dropped does not cost a call per request. One lookup at a time (concurrent misses wait for it, then
find the answer cached). Catalog unreachable, slow or failing → 503 ``HOT0001``. The HTTP adapter of
``ports.ProductLookup``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from decimal import Decimal

from kiwishop.hot_catalog.domain import HotError, ProductInfo
from kiwishop.platform import jsonutil
from kiwishop.platform.errors import AppError
from kiwishop.platform.httpclient import HttpClient, HttpError


class ProductCatalog:
    def __init__(
        self,
        client: HttpClient,
        *,
        ttl_s: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock
        self._cache: dict[int, tuple[float, ProductInfo | None]] = {}
        self._lock = asyncio.Lock()

    def _fresh(self, product_nos: Iterable[int]) -> tuple[dict[int, ProductInfo], list[int]]:
        now = self._clock()
        known: dict[int, ProductInfo] = {}
        missing: list[int] = []
        for product_no in product_nos:
            entry = self._cache.get(product_no)
            if entry is None or entry[0] <= now:
                missing.append(product_no)
            elif entry[1] is not None:
                known[product_no] = entry[1]
        return known, missing

    async def lookup(self, product_nos: list[int]) -> dict[int, ProductInfo]:
        """The products catalog knows among ``product_nos`` (unknown ones are absent)."""
        known, missing = self._fresh(product_nos)
        if not missing:
            return known
        async with self._lock:
            known, missing = self._fresh(product_nos)
            if missing:
                fetched = await self._fetch(missing)
                expires = self._clock() + self._ttl
                if len(self._cache) + len(missing) > self._max:
                    self._cache.clear()
                for product_no in missing:
                    self._cache[product_no] = (expires, fetched.get(product_no))
                known.update(fetched)
        return known

    async def _fetch(self, product_nos: list[int]) -> dict[int, ProductInfo]:
        try:
            response = await self._client.get("/products", params={"productNoList": ",".join(map(str, product_nos))})
        except HttpError as exc:
            raise AppError(HotError.CATALOG_UNAVAILABLE) from exc
        if response.status_code != 200:
            raise AppError(HotError.CATALOG_UNAVAILABLE)
        try:
            products = jsonutil.loads(response.content)["productList"]
            infos = [
                ProductInfo(int(p["productNo"]), p["sellerNo"], p["productId"], p["name"], _money(p["price"]))
                for p in products
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise AppError(HotError.CATALOG_UNAVAILABLE) from exc
        return {info.product_no: info for info in infos}


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
