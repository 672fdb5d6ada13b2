from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel


class HotProductOut(BaseModel):
    """catalog's product fields, then the product's hot score and its rank (1 = hottest) in this list."""

    productNo: int
    sellerNo: int | None
    productId: str
    name: str
    price: Decimal
    score: int
    rank: int


class HotProductListOut(BaseModel):
    productList: list[HotProductOut]
