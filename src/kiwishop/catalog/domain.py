"""Catalog rules: what a product is, and the errors a client can get."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kiwishop.platform.errors import ErrorCode

MAX_ID = 2**63 - 1


class CatalogError(ErrorCode):
    PRODUCT_NOT_FOUND = ("CTG0001", 404, "상품이 존재하지 않습니다.", "The product does not exist.")
    DUPLICATE_PRODUCT_ID = (
        "CTG0002",
        409,
        "이미 등록된 상품 ID 입니다: {productId}",
        "This seller already registered product id {productId}.",
    )
    INVALID_PRODUCT_NO_LIST = (
        "CTG0003",
        400,
        "productNoList 는 1 이상의 숫자 목록이어야 합니다: {value}",
        "productNoList must be a list of positive integers: {value}",
    )
    TOO_MANY_PRODUCTS = (
        "CTG0004",
        400,
        "한 번에 조회할 수 있는 상품은 최대 {limit}개 입니다.",
        "At most {limit} products can be looked up at once.",
    )


@dataclass(frozen=True)
class Product:
    product_no: int
    seller_no: int | None
    product_id: str
    name: str
    price: Decimal


def parse_product_no_list(values: list[str]) -> list[int] | str:
    """Repeated (``?p=1&p=2``) and comma (``?p=1,2``) forms; returns sorted unique ids, or the bad element."""
    ids: set[int] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isascii() or not part.isdigit() or len(part) > 19 or not 1 <= int(part) <= MAX_ID:
                return part
            ids.add(int(part))
    return sorted(ids)
