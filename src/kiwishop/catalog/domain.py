"""Catalog rules: what a product is, which sellers may sell (learned from seller's lifecycle events), and
the errors a client can get."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kiwishop.contracts.events import SELLER_DEREGISTERED, SELLER_REGISTERED
from kiwishop.platform.errors import ErrorCode
from kiwishop.platform.params import MAX_ID

SELLER_ID_MAX_LENGTH = 128


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
    SELLER_NOT_REGISTERED = (
        "CTG0005",
        409,
        "판매자 {sellerNo} 는 (아직) 등록된 판매자가 아닙니다. 방금 등록한 판매자라면 잠시 후 다시 시도해 주세요.",
        "Seller {sellerNo} is not registered (yet). A seller registered a moment ago is accepted shortly: retry.",
    )


PRICE_NOT_WHOLE_WON_EN = "KRW has no minor unit: a price must be whole won, got {price}"
PRICE_NOT_WHOLE_WON_KO = "원화에는 원 미만 단위가 없습니다. 가격은 원 단위 정수여야 합니다: {price}"


def is_whole_won(price: Decimal) -> bool:
    """A price order can charge: KRW has no minor unit, so 12345 and 12345.00 are, 12345.67 is not."""
    return price.is_finite() and price == price.to_integral_value()


@dataclass(frozen=True)
class Product:
    product_no: int
    seller_no: int | None
    product_id: str
    name: str
    price: Decimal


class SellerState(enum.StrEnum):
    """ACTIVE: its products are sold. GONE: deregistered; final for that sellerNo (seller never reuses one)."""

    ACTIVE = "ACTIVE"
    GONE = "GONE"


class InvalidSellerEvent(ValueError):
    """A seller event no retry can fix (malformed, or its key does not name its seller)."""


@dataclass(frozen=True)
class SellerChange:
    seller_no: int
    seller_id: str
    state: SellerState


_STATE_OF = {SELLER_REGISTERED.name: SellerState.ACTIVE, SELLER_DEREGISTERED.name: SellerState.GONE}


def parse_seller_event(event_type: str, key: str, payload: dict[str, Any]) -> SellerChange:
    """SELLER_REGISTERED → ACTIVE, SELLER_DEREGISTERED → GONE, for the seller the payload (and key) name."""
    state = _STATE_OF.get(event_type)
    if state is None:
        raise InvalidSellerEvent(f"not a seller lifecycle event: {event_type}")
    seller_no = payload.get("sellerNo")
    if not isinstance(seller_no, int) or isinstance(seller_no, bool) or not 1 <= seller_no <= MAX_ID:
        raise InvalidSellerEvent(f"sellerNo must be a positive integer, got {seller_no!r}")
    seller_id = payload.get("sellerId")
    if not isinstance(seller_id, str) or not 0 < len(seller_id) <= SELLER_ID_MAX_LENGTH:
        raise InvalidSellerEvent(f"sellerId must be 1 to {SELLER_ID_MAX_LENGTH} characters, got {seller_id!r}")
    if key != str(seller_no):
        raise InvalidSellerEvent(f"the record's key {key!r} is not its sellerNo {seller_no}")
    return SellerChange(seller_no, seller_id, state)
