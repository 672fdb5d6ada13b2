from __future__ import annotations

import datetime as dt

from kiwishop.catalog_like.domain import LikeChange
from kiwishop.contracts.events import PRODUCT_LIKED, PRODUCT_UNLIKED


def test_a_like_event_carries_the_totals_the_version_and_an_iso_utc_like_time() -> None:
    change = LikeChange(
        PRODUCT_LIKED.name,
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
    change = LikeChange(PRODUCT_UNLIKED.name, 5, 1, 7, dt.datetime(2025, 1, 11, tzinfo=dt.UTC), 0, 3)
    assert change.idempotency_key == "PRODUCT_UNLIKED:5"
