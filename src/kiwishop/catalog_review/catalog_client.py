"""Does a product exist? Asks catalog (``GET /products/{productNo}``) with a short timeout and remembers
the answer "yes" in a bounded in-process set (catalog never deletes products). "No" is not remembered,
so a product registered a moment later can be reviewed at once. Catalog unreachable, slow or failing → the
caller gets 503 with the JSON error body; nothing is written."""

from __future__ import annotations

from collections import OrderedDict

import httpx

from kiwishop.catalog_review.domain import ReviewError
from kiwishop.platform.errors import AppError


class KnownProducts:
    def __init__(self, client: httpx.AsyncClient, *, cache_size: int = 10_000) -> None:
        self._client = client
        self._known: OrderedDict[int, None] = OrderedDict()
        self._size = cache_size

    async def require(self, product_no: int) -> None:
        """Return when catalog knows the product; raise 404 when it does not, 503 when it cannot say."""
        if product_no in self._known:
            self._known.move_to_end(product_no)
            return
        try:
            response = await self._client.get(f"/products/{product_no}")
        except httpx.HTTPError as exc:
            raise AppError(ReviewError.CATALOG_UNAVAILABLE) from exc
        if response.status_code == 404:
            raise AppError(ReviewError.PRODUCT_NOT_FOUND)
        if response.status_code != 200:
            raise AppError(ReviewError.CATALOG_UNAVAILABLE)
        self._known[product_no] = None
        if len(self._known) > self._size:
            self._known.popitem(last=False)
