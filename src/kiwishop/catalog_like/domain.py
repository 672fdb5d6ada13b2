"""Like rules: a like is a (product, member) pair that exists at most once; the per-product count equals
the number of pairs and never goes below zero. Events carry the count after the change and the count
row's version (0 for the first like of a product, +1 on every change), so consumers can drop stale ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiwishop.contracts.events import ProductLikeV1
from kiwishop.platform.errors import ErrorCode
from kiwishop.platform.jsonutil import utc_iso


class LikeError(ErrorCode):
    PRODUCT_NOT_FOUND = ("LIK0001", 404, "상품이 존재하지 않습니다.", "The product does not exist.")
    CATALOG_UNAVAILABLE = (
        "LIK0002",
        503,
        "상품 정보를 확인할 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "The catalog cannot be reached; try again shortly.",
    )


@dataclass(frozen=True)
class LikeChange:
    """One like or unlike that happened, with the product's totals after it."""

    event_type: str  # PRODUCT_LIKED or PRODUCT_UNLIKED (contracts.events)
    product_like_no: int
    product_no: int
    member_no: int
    created_at: dt.datetime  # when the like was made (UTC)
    like_count: int
    version: int

    @property
    def idempotency_key(self) -> str:
        return f"{self.event_type}:{self.product_like_no}"

    def payload(self) -> ProductLikeV1:
        return {
            "catalogLikeNo": self.product_like_no,
            "productNo": self.product_no,
            "memberNo": self.member_no,
            "productLikeCount": self.like_count,
            "createdAt": utc_iso(self.created_at),
            "version": self.version,
        }
