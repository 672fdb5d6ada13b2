"""Catalog rules: what a product is, and the errors a client can get."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kiwishop.platform.errors import ErrorCode
from kiwishop.platform.params import MAX_ID

__all__ = ["MAX_ID", "CatalogError", "Product"]


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
