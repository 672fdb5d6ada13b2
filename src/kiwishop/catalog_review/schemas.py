from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from kiwishop.catalog_review.domain import CONTENT_MAX, TITLE_MAX, Review, StarRating, iso
from kiwishop.platform.params import MAX_ID


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "must be a number", {"ko": "숫자여야 합니다."})
    return value


# Numbers as JSON numbers; a numeric string is accepted too (the original's README sends one).
Id = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=MAX_ID)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CONTENT_MAX)]
StarRatingType = Literal["ONE", "TWO", "THREE", "FOUR", "FIVE"]


class CreateReviewIn(BaseModel):
    """Unknown properties are ignored (as in the original); every listed one is required."""

    productNo: Id
    memberNo: Id
    title: Title
    content: Content
    starRatingType: StarRatingType


class ReviewOut(BaseModel):
    productReviewNo: int
    productNo: int
    memberNo: int
    title: str
    content: str
    starRatingType: StarRatingType
    starRating: int
    isDeleted: bool
    createdAt: str

    @classmethod
    def of(cls, r: Review) -> ReviewOut:
        return cls(
            productReviewNo=r.product_review_no,
            productNo=r.product_no,
            memberNo=r.member_no,
            title=r.title,
            content=r.content,
            starRatingType=StarRating(r.star_rating).name,
            starRating=int(r.star_rating),
            isDeleted=r.is_deleted,
            createdAt=iso(r.created_at),
        )


class ReviewPageOut(BaseModel):
    productReviewList: list[ReviewOut]
    nextCursor: str | None


class ReviewSummaryOut(BaseModel):
    productNo: int
    reviewCount: int
    averageStarRating: Decimal | None
