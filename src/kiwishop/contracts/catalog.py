"""A client of catalog's public contract (``GET /products/{productNo}``), shared by the services that must
refuse to act on a product catalog does not know (likes, reviews).

It remembers "yes" in a bounded in-process set (catalog never deletes products); "no" is not remembered,
so a product registered a moment later is accepted at once. Catalog unreachable, slow or failing → the
caller's ``unavailable`` error (a 503); unknown product → its ``not_found`` error (a 404).
"""

from __future__ import annotations

from collections import OrderedDict

from kiwishop.platform.errors import AppError, ErrorCode
from kiwishop.platform.httpclient import HttpClient, HttpError


class KnownProducts:
    def __init__(self, client: HttpClient, *, not_found: ErrorCode, unavailable: ErrorCode, cache_size: int) -> None:
        self._client = client
        self._not_found = not_found
        self._unavailable = unavailable
        self._known: OrderedDict[int, None] = OrderedDict()
        self._size = cache_size

    async def require(self, product_no: int) -> None:
        """Return when catalog knows the product; raise ``not_found`` or ``unavailable`` otherwise."""
        if product_no in self._known:
            self._known.move_to_end(product_no)
            return
        try:
            response = await self._client.get(f"/products/{product_no}")
        except HttpError as exc:
            raise AppError(self._unavailable) from exc
        if response.status_code == 404:
            raise AppError(self._not_found)
        if response.status_code != 200:
            raise AppError(self._unavailable)
        self._known[product_no] = None
        if len(self._known) > self._size:
            self._known.popitem(last=False)
