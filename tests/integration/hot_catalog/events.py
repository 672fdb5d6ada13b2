"""Envelopes as catalog-like, catalog-review and order write them (for tests that play the producers)."""

from __future__ import annotations

import itertools

from kiwishop.platform.envelope import Envelope
from tests.payloads import ConfirmLine, payment_confirm

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
    """PAYMENT_CONFIRM of a paid order with one line per product, as order builds it (tests/payloads.py)."""
    lines = [ConfirmLine(next(_ids), seller_no=1, amount="1000.00", product_no=p, product_name="x") for p in products]
    return payment_confirm(order_id, lines, event_id=event_id or next(_ids))
