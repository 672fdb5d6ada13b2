"""Review rules: a review has one to five stars (``ONE``..``FIVE``); deleting marks it deleted once (a second
delete changes nothing); the per-product review count and star sum count the reviews that are not deleted
and never go below zero. Events carry the totals after the change and the count row's version (0 for a
product's first review, +1 on every change)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kiwishop.contracts.events import ProductReviewV1
from kiwishop.platform.errors import ErrorCode
from kiwishop.platform.jsonutil import utc_iso
from kiwishop.platform.params import MAX_ID

TITLE_MAX = 100
CONTENT_MAX = 3000


class StarRating(enum.IntEnum):
    ONE = 1
    TWO = 2
    THREE = 3
    FOUR = 4
    FIVE = 5


class ReviewError(ErrorCode):
    PRODUCT_NOT_FOUND = ("REV0001", 404, "상품이 존재하지 않습니다.", "The product does not exist.")
    CATALOG_UNAVAILABLE = (
        "REV0002",
        503,
        "상품 정보를 확인할 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "The catalog cannot be reached; try again shortly.",
    )
    REVIEW_NOT_FOUND = ("REV0003", 404, "리뷰가 존재하지 않습니다.", "The review does not exist.")
    INVALID_CURSOR = ("REV0004", 400, "cursor 값이 올바르지 않습니다.", "The cursor is not valid.")


@dataclass(frozen=True)
class Review:
    product_review_no: int
    product_no: int
    member_no: int
    title: str
    content: str
    star_rating: StarRating
    is_deleted: bool
    created_at: dt.datetime  # naive UTC


@dataclass(frozen=True)
class Totals:
    review_count: int
    star_rating_sum: int
    version: int


@dataclass(frozen=True)
class ReviewChange:
    """A review created or deleted, with the product's totals after it."""

    event_type: str  # PRODUCT_CREATED_REVIEW or PRODUCT_DELETED_REVIEW (contracts.events)
    review: Review
    totals: Totals

    @property
    def idempotency_key(self) -> str:
        return f"{self.event_type}:{self.review.product_review_no}"

    def payload(self) -> ProductReviewV1:
        r = self.review
        return {
            "catalogReviewNo": r.product_review_no,
            "productNo": r.product_no,
            "memberNo": r.member_no,
            "title": r.title,
            "content": r.content,
            "starRating": int(r.star_rating),
            "isDeleted": r.is_deleted,
            "reviewCount": self.totals.review_count,
            "reviewStarRatingSum": self.totals.star_rating_sum,
            "version": self.totals.version,
        }


def average_star_rating(review_count: int, star_rating_sum: int) -> Decimal | None:
    """The mean star rating rounded half-up to two decimals; None without reviews."""
    if review_count <= 0:
        return None
    return (Decimal(star_rating_sum) / Decimal(review_count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_cursor(cursor: str | None) -> int | None:
    """The cursor is the last ``productReviewNo`` of the previous page (decimal); None = first page."""
    if cursor is None or cursor == "":
        return None
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 19 or not 1 <= int(cursor) <= MAX_ID:
        raise ValueError(cursor)
    return int(cursor)


def iso(moment: dt.datetime) -> str:
    return utc_iso(moment)
