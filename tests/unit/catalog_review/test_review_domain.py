from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kiwishop.catalog_review.domain import (
    Review,
    ReviewChange,
    StarRating,
    Totals,
    average_star_rating,
    parse_cursor,
)
from kiwishop.catalog_review.schemas import CreateReviewIn
from kiwishop.contracts.events import PRODUCT_DELETED_REVIEW


@pytest.mark.parametrize(
    ("count", "total", "expected"),
    [
        (0, 0, None),
        (1, 5, Decimal("5.00")),
        (3, 13, Decimal("4.33")),
        (3, 14, Decimal("4.67")),
        (8, 21, Decimal("2.63")),
    ],
)
def test_the_mean_star_rating_has_two_decimals_rounded_half_up_or_is_none(
    count: int, total: int, expected: Decimal | None
) -> None:
    assert average_star_rating(count, total) == expected


def test_star_rating_types_map_to_one_to_five_stars() -> None:
    assert [(s.name, int(s)) for s in StarRating] == [("ONE", 1), ("TWO", 2), ("THREE", 3), ("FOUR", 4), ("FIVE", 5)]


def test_a_delete_event_says_is_deleted_and_carries_the_totals_after_it() -> None:
    created = dt.datetime(2025, 1, 11, tzinfo=dt.UTC).replace(tzinfo=None)
    review = Review(10, 2, 1, "t", "c", StarRating.FIVE, True, created)
    change = ReviewChange(PRODUCT_DELETED_REVIEW.name, review, Totals(0, 0, 1))
    assert change.idempotency_key == "PRODUCT_DELETED_REVIEW:10"
    assert change.payload() == {
        "catalogReviewNo": 10,
        "productNo": 2,
        "memberNo": 1,
        "title": "t",
        "content": "c",
        "starRating": 5,
        "isDeleted": True,
        "reviewCount": 0,
        "reviewStarRatingSum": 0,
        "version": 1,
    }


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, None), ("", None), ("42", 42), ("9223372036854775807", 2**63 - 1)]
)
def test_a_cursor_is_the_last_review_number_seen(raw: str | None, expected: int | None) -> None:
    assert parse_cursor(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "1.5", "9223372036854775808", "١٢"])
def test_anything_else_is_not_a_cursor(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_cursor(raw)


def test_titles_and_contents_are_trimmed_and_numeric_strings_accepted() -> None:
    body = CreateReviewIn.model_validate(
        {"productNo": "7", "memberNo": 1, "title": "  좋아요 ", "content": "\n내용\n", "starRatingType": "ONE"}
    )
    assert (body.productNo, body.title, body.content) == (7, "좋아요", "내용")
