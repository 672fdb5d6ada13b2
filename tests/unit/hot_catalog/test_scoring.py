"""Score formula, event payloads, rank order and the window (catalog.md acceptance tests 18, 23)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from kiwishop.hot_catalog.domain import (
    ALL_TIME,
    SEOUL,
    InvalidEvent,
    Ranked,
    TotalsUpdate,
    Weights,
    like_update,
    paid_lines,
    rank_order,
    ranking_window,
    review_update,
)
from kiwishop.hot_catalog.settings import HotCatalogSettings


@pytest.mark.parametrize(
    ("likes", "reviews", "stars", "paid", "score"),
    [
        (0, 0, 0, 0, 0),
        (1, 0, 0, 0, 2),
        (2, 0, 0, 0, 4),
        (0, 1, 5, 0, 28),
        (0, 1, 1, 0, 8),
        (0, 0, 0, 1, 10),
        (3, 2, 7, 4, 6 + 6 + 35 + 40),
    ],
)
def test_the_score_is_2_likes_3_reviews_5_stars_and_10_per_paid_line(
    likes: int, reviews: int, stars: int, paid: int, score: int
) -> None:
    assert Weights().score(likes, reviews, stars, paid) == score


def test_the_payment_weight_is_a_setting_that_must_outweigh_a_like() -> None:
    assert HotCatalogSettings(payment_weight=3).payment_weight == 3
    with pytest.raises(ValidationError, match="payment_weight"):
        HotCatalogSettings(payment_weight=2)
    with pytest.raises(ValidationError, match="payment_weight"):
        HotCatalogSettings(like_weight=20)


def test_like_and_review_events_become_versioned_totals() -> None:
    liked = {"catalogLikeNo": 9, "productNo": 1, "memberNo": 1, "productLikeCount": 2, "createdAt": "x", "version": 1}
    assert like_update(liked) == TotalsUpdate("likes", 1, 1, (2,))
    review = {"catalogReviewNo": 3, "productNo": 2, "reviewCount": 1, "reviewStarRatingSum": 5, "version": 0}
    assert review_update(review) == TotalsUpdate("reviews", 2, 0, (1, 5))


@pytest.mark.parametrize(
    "change",
    [
        {"version": None},
        {"version": "1"},
        {"version": -1},
        {"productNo": 0},
        {"productNo": True},
        {"productLikeCount": -1},
        {"productLikeCount": 1.5},
        {"productNo": 2**63},
    ],
)
def test_a_like_payload_with_a_missing_or_mistyped_field_is_invalid(change: dict[str, Any]) -> None:
    payload = {"productNo": 1, "productLikeCount": 1, "version": 0} | change
    with pytest.raises(InvalidEvent):
        like_update({k: v for k, v in payload.items() if v is not None})


def test_paid_lines_count_the_success_lines_per_product() -> None:
    payload = {
        "paymentOrderList": [
            {"productNo": 1, "status": "SUCCESS"},
            {"productNo": 2, "status": "SUCCESS"},
            {"productNo": 1, "status": "SUCCESS"},
            {"productNo": 3, "status": "FAILURE"},
        ]
    }
    assert paid_lines(payload) == {1: 2, 2: 1}
    assert paid_lines({"paymentOrderList": []}) == {}


@pytest.mark.parametrize(
    "payload",
    [{}, {"paymentOrderList": "x"}, {"paymentOrderList": [5]}, {"paymentOrderList": [{"status": "SUCCESS"}]}],
)
def test_an_unreadable_payment_is_invalid(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvent):
        paid_lines(payload)


def test_rank_order_is_by_score_then_by_product_number_not_by_string() -> None:
    assert rank_order([(9, 5), (10, 5), (2, 28), (100, 1)]) == [
        Ranked(2, 28),
        Ranked(9, 5),
        Ranked(10, 5),
        Ranked(100, 1),
    ]


def seoul(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (seoul(2026, 3, 1, 23, 59, 59), seoul(2026, 3, 2, 0, 0, 1)),
        (seoul(2026, 12, 31, 23, 59, 59), seoul(2027, 1, 1, 0, 0, 0)),
        (seoul(2026, 3, 1, 8, 59, 59), seoul(2026, 3, 1, 9, 0, 0)),  # midnight UTC
    ],
)
def test_the_window_is_all_time_the_same_either_side_of_midnight(before: dt.datetime, after: dt.datetime) -> None:
    assert ranking_window(before) == ranking_window(after) == ALL_TIME
