"""What the shop's main page offers: hot-catalog's ranking, or — when hot-catalog is down or has nothing
yet — catalog's products. The page never fails because of it."""

from __future__ import annotations

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
    hot: bool  # True: hot-catalog's ranking; False: catalog's products as a fallback
    products: list[ShowcaseProduct]


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


async def showcase(hot_catalog: HttpClient, catalog: HttpClient, size: int = 10) -> Showcase:
    hot = await _fetch(hot_catalog, "/api/hot-products")
    if hot:
        try:
            return Showcase(True, [_product(p) for p in hot][:size])
        except (KeyError, ValueError, ArithmeticError):
            log.warning("hot-catalog answered an unexpected shape; showing catalog instead")
    products = await _fetch(catalog, "/api/products", {"limit": size}) or []
    try:
        return Showcase(False, [_product(p) for p in products])
    except (KeyError, ValueError, ArithmeticError):
        return Showcase(False, [])
