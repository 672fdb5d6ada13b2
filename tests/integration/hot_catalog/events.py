"""Envelopes as catalog-like, catalog-review and order write them (for tests that play the producers)."""

from __future__ import annotations

import itertools
from typing import Any

from kiwishop.platform.envelope import Envelope

_ids = itertools.count(7_000_000_000_000)


def liked(product: int, count: int, version: int, *, event_id: int | None = None) -> Envelope:
    payload = {
        "catalogLikeNo": next(_ids),
        "productNo": product,
        "memberNo": 1,
        "productLikeCount": count,
        "createdAt": "2026-03-01T00:00:00.000Z",
        "version": version,
    }
    return Envelope(event_id=event_id or next(_ids), type="PRODUCT_LIKED", payload=payload, key=str(product))


def reviewed(product: int, count: int, stars: int, version: int, *, deleted: bool = False) -> Envelope:
    payload = {
        "catalogReviewNo": next(_ids),
        "productNo": product,
        "memberNo": 1,
        "title": "t",
        "content": "c",
        "starRating": 5,
        "isDeleted": deleted,
        "reviewCount": count,
        "reviewStarRatingSum": stars,
        "version": version,
    }
    event_type = "PRODUCT_DELETED_REVIEW" if deleted else "PRODUCT_CREATED_REVIEW"
    return Envelope(event_id=next(_ids), type=event_type, payload=payload, key=str(product))


def paid(*products: int, order_id: str = "order-1", event_id: int | None = None) -> Envelope:
    lines: list[dict[str, Any]] = [
        {
            "paymentOrderNo": next(_ids),
            "productNo": p,
            "sellerNo": 1,
            "productName": "x",
            "amount": 1000,
            "status": "SUCCESS",
        }
        for p in products
    ]
    payload = {"orderId": order_id, "paymentOrderList": lines, "paymentDone": True}
    return Envelope(event_id=event_id or next(_ids), type="PAYMENT_CONFIRM", payload=payload, key=order_id)
