"""What the shop's main page offers: hot-catalog's ranking, then catalog's other products (so every product
can be chosen, hot or not). When hot-catalog is down or has nothing yet, catalog's products alone; when
catalog is down too, nothing to choose from. The page never fails because of it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kiwishop.platform import jsonutil
from kiwishop.platform.httpclient import HttpClient, HttpError

log = logging.getLogger("kiwishop.order.showcase")


@dataclass(frozen=True)
class ShowcaseProduct:
    product_no: int
    name: str
    price: Decimal
    rank: int | None = None
    score: int | None = None


@dataclass(frozen=True)
class Showcase:
    hot: list[ShowcaseProduct]  # hot-catalog's ranking, in rank order (empty when it is down or empty)
    others: list[ShowcaseProduct]  # catalog's products that are not in the ranking


async def _fetch(http: HttpClient, path: str, params: dict[str, int] | None = None) -> list[dict[str, Any]] | None:
    try:
        response = await http.get(path, params=params)
        if response.status_code != 200:
            return None
        body = jsonutil.loads(response.content)
        products = body.get("productList") if isinstance(body, dict) else None
        return products if isinstance(products, list) else None
    except (HttpError, ValueError) as exc:
        log.warning("showcase source %s unavailable: %s", path, exc)
        return None


def _product(p: dict[str, Any]) -> ShowcaseProduct:
    score = p.get("score")
    return ShowcaseProduct(
        product_no=int(p["productNo"]),
        name=str(p["name"]),
        price=Decimal(p["price"]),
        rank=int(p["rank"]) if p.get("rank") is not None else None,
        score=int(score) if score is not None else None,
    )


async def showcase(hot_catalog: HttpClient, catalog: HttpClient, size: int = 10, browse: int = 20) -> Showcase:
    hot_raw, catalog_raw = await asyncio.gather(
        _fetch(hot_catalog, "/api/hot-products"), _fetch(catalog, "/api/products", {"limit": browse})
    )
    try:
        hot = [_product(p) for p in hot_raw or []][:size]
    except (KeyError, ValueError, ArithmeticError):
        log.warning("hot-catalog answered an unexpected shape; showing catalog only")
        hot = []
    try:
        listed = [_product(p) for p in catalog_raw or []]
    except (KeyError, ValueError, ArithmeticError):
        listed = []
    ranked = {p.product_no for p in hot}
    return Showcase(hot, [p for p in listed if p.product_no not in ranked])
