from __future__ import annotations

import datetime as dt

from kiwishop.catalog_like.domain import PRODUCT_LIKED, PRODUCT_UNLIKED, LikeChange, utc_now_ms


def test_a_like_event_carries_the_totals_the_version_and_an_iso_utc_like_time() -> None:
    change = LikeChange(
        PRODUCT_LIKED,
        140213245587460096,
        1,
        7,
        dt.datetime(2025, 1, 11, 13, 32, 6, 123000, tzinfo=dt.UTC).replace(tzinfo=None),
        3,
        2,
    )
    assert change.idempotency_key == "PRODUCT_LIKED:140213245587460096"
    assert change.payload() == {
        "catalogLikeNo": 140213245587460096,
        "productNo": 1,
        "memberNo": 7,
        "productLikeCount": 3,
        "createdAt": "2025-01-11T13:32:06.123Z",
        "version": 2,
    }


def test_an_unlike_is_keyed_by_its_own_type_and_the_deleted_like() -> None:
    change = LikeChange(PRODUCT_UNLIKED, 5, 1, 7, dt.datetime(2025, 1, 11, tzinfo=dt.UTC), 0, 3)
    assert change.idempotency_key == "PRODUCT_UNLIKED:5"


def test_like_times_are_naive_utc_with_millisecond_precision() -> None:
    now = utc_now_ms()
    assert now.tzinfo is None
    assert now.microsecond % 1000 == 0
    assert abs(now - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=5)
