"""Hot-product scoring rules (stdlib only).

Window: **all-time**. A product's score is computed from its current totals — likes, live reviews, the
star sum of live reviews (each the latest value announced by catalog-like / catalog-review) — plus every
paid order line ever seen that was not canceled since: ``2·likes + 3·reviews + 5·stars + payment_weight·
(paid lines − canceled lines)``. Nothing resets at midnight and nothing expires, so a score never forgets
part of its inputs (the original's C2 bug).
``ranking_window(now)`` is the one place a window is chosen; it ignores the clock on purpose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from kiwishop.platform.errors import ErrorCode
from kiwishop.platform.params import MAX_ID

SEOUL = ZoneInfo("Asia/Seoul")
ALL_TIME = "all-time"
PAID_STATUSES = ("SUCCESS", "CANCELED")  # a PAYMENT_CONFIRM's lines that were paid


class HotError(ErrorCode):
    CATALOG_UNAVAILABLE = (
        "HOT0001",
        503,
        "상품 정보를 불러올 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "The catalog cannot be reached; try again shortly.",
    )
    RANKING_UNAVAILABLE = (
        "HOT0002",
        503,
        "인기 상품 순위를 불러올 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "The ranking cannot be read; try again shortly.",
    )


class InvalidEvent(ValueError):
    """A payload no retry can fix (missing or mistyped fields)."""


@dataclass(frozen=True)
class Weights:
    like: int = 2
    review: int = 3
    star: int = 5
    paid_line: int = 10

    def score(self, likes: int, reviews: int, stars: int, paid_lines: int, canceled_lines: int = 0) -> int:
        return (
            self.like * likes
            + self.review * reviews
            + self.star * stars
            + self.paid_line * (paid_lines - canceled_lines)
        )


@dataclass(frozen=True)
class TotalsUpdate:
    """The latest totals of one kind for one product; applied only if ``version`` is newer than the stored one."""

    kind: Literal["likes", "reviews"]
    product_no: int
    version: int
    values: tuple[int, ...]  # likes: (likes,); reviews: (reviews, star sum)


def ranking_window(now: dt.datetime) -> str:
    """The window an event at ``now`` counts in. All-time: one window, the same before and after midnight
    in Asia/Seoul (or anywhere); a daily window would return ``now.astimezone(SEOUL)``'s date here."""
    del now
    return ALL_TIME


def _count(payload: dict[str, Any], name: str, *, minimum: int = 0) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value > MAX_ID:
        raise InvalidEvent(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def like_update(payload: dict[str, Any]) -> TotalsUpdate:
    return TotalsUpdate(
        "likes",
        _count(payload, "productNo", minimum=1),
        _count(payload, "version"),
        (_count(payload, "productLikeCount"),),
    )


def review_update(payload: dict[str, Any]) -> TotalsUpdate:
    return TotalsUpdate(
        "reviews",
        _count(payload, "productNo", minimum=1),
        _count(payload, "version"),
        (_count(payload, "reviewCount"), _count(payload, "reviewStarRatingSum")),
    )


def _lines(payload: dict[str, Any], name: str) -> list[dict[str, Any]]:
    lines = payload.get(name)
    if not isinstance(lines, list):
        raise InvalidEvent(f"{name} must be a list")
    if not all(isinstance(line, dict) for line in lines):
        raise InvalidEvent("a payment order line must be an object")
    return lines


def paid_lines(payload: dict[str, Any]) -> dict[int, int]:
    """Paid order lines per product: the lines of a PAYMENT_CONFIRM that were paid (a product may have several)
    — SUCCESS, and CANCELED too (paid, then given back: its PAYMENT_CANCELED takes it out, once)."""
    counts: dict[int, int] = {}
    for line in _lines(payload, "paymentOrderList"):
        if line.get("status") not in PAID_STATUSES:
            continue
        product_no = _count(line, "productNo", minimum=1)
        counts[product_no] = counts.get(product_no, 0) + 1
    return counts


@dataclass(frozen=True)
class CanceledLine:
    """A paid line given back (PAYMENT_CANCELED): it takes out what its paid line added, once per line."""

    payment_order_no: int
    product_no: int


def canceled_lines(payload: dict[str, Any]) -> list[CanceledLine]:
    """The lines of a PAYMENT_CANCELED (at least one, each paymentOrderNo once)."""
    lines = [
        CanceledLine(_count(line, "paymentOrderNo", minimum=1), _count(line, "productNo", minimum=1))
        for line in _lines(payload, "lines")
    ]
    if not lines or len({line.payment_order_no for line in lines}) != len(lines):
        raise InvalidEvent("lines must name at least one paymentOrderNo, each once")
    return lines


@dataclass(frozen=True)
class ProductInfo:
    """catalog's fields of a product, as the hot list shows them."""

    product_no: int
    seller_no: int | None
    product_id: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class Ranked:
    product_no: int
    score: int


def rank_order(entries: list[tuple[int, int]]) -> list[Ranked]:
    """Highest score first; equal scores by ascending product number (not Redis's string order, C16)."""
    return [Ranked(p, s) for p, s in sorted(entries, key=lambda e: (-e[1], e[0]))]
