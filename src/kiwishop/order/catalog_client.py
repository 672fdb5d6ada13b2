"""Products from catalog (8081) over HTTP, order's ``ProductCatalog``; an outage is a 503 for the caller,
never a 500."""

from __future__ import annotations

from decimal import Decimal

from kiwishop.order.domain import CatalogProduct, OrderError
from kiwishop.platform import jsonutil
from kiwishop.platform.errors import AppError
from kiwishop.platform.httpclient import HttpClient, HttpError


class CatalogClient:
    def __init__(self, http: HttpClient) -> None:
        self._http = http

    async def find(self, product_nos: list[int]) -> dict[int, CatalogProduct]:
        if not product_nos:
            return {}
        try:
            response = await self._http.get("/products", params=[("productNoList", str(n)) for n in product_nos])
        except HttpError as exc:
            raise AppError(OrderError.CATALOG_UNAVAILABLE) from exc
        if response.status_code != 200:
            raise AppError(OrderError.CATALOG_UNAVAILABLE)
        try:
            body = jsonutil.loads(response.content)
            return {
                int(p["productNo"]): CatalogProduct(
                    int(p["productNo"]), int(p["sellerNo"]), str(p["productId"]), str(p["name"]), Decimal(p["price"])
                )
                for p in body["productList"]
            }
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise AppError(OrderError.CATALOG_UNAVAILABLE) from exc
