"""The event effects (``handlers.RankingHandlers``) against an in-memory ranking that keeps the script's
contract (``ports.RankingUpdates``): duplicates and stale versions change nothing, payloads that cannot be
read never reach the ranking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from kiwishop.hot_catalog.domain import SEOUL, CanceledLine, TotalsUpdate
from kiwishop.hot_catalog.handlers import RankingHandlers
from kiwishop.hot_catalog.ranking import APPLIED, DUPLICATE, STALE
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from tests.payloads import ConfirmLine, payment_confirm

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=SEOUL)


class FakeRanking:
    """Totals, paid and canceled lines per product, kept as ``ranking.APPLY`` keeps them."""

    def __init__(self) -> None:
        self.applied: set[int] = set()
        self.versions: dict[tuple[str, int], int] = {}
        self.totals: dict[tuple[str, int], tuple[int, ...]] = {}
        self.paid: dict[int, int] = {}
        self.canceled: dict[int, int] = {}
        self.taken_out: set[int] = set()  # the canceled lines' markers (paymentOrderNos)
        self.calls: list[tuple[int, dt.datetime]] = []

    async def apply_totals(self, event_id: int, update: TotalsUpdate, now: dt.datetime) -> int:
        self.calls.append((event_id, now))
        if event_id in self.applied:
            return DUPLICATE
        self.applied.add(event_id)
        kind = (update.kind, update.product_no)
        if update.version <= self.versions.get(kind, -1):
            return STALE
        self.versions[kind], self.totals[kind] = update.version, update.values
        return APPLIED

    async def apply_paid_lines(self, event_id: int, lines: dict[int, int], now: dt.datetime) -> int:
        self.calls.append((event_id, now))
        if event_id in self.applied:
            return DUPLICATE
        self.applied.add(event_id)
        for product_no, count in lines.items():
            self.paid[product_no] = self.paid.get(product_no, 0) + count
        return APPLIED

    async def apply_canceled_lines(self, event_id: int, lines: Sequence[CanceledLine], now: dt.datetime) -> int:
        self.calls.append((event_id, now))
        if event_id in self.applied:
            return DUPLICATE
        self.applied.add(event_id)
        for line in lines:
            if line.payment_order_no not in self.taken_out:
                self.taken_out.add(line.payment_order_no)
                self.canceled[line.product_no] = self.canceled.get(line.product_no, 0) + 1
        return APPLIED


def envelope(event_id: int, event_type: str, **payload: Any) -> Envelope:
    return Envelope(event_id=event_id, type=event_type, payload=payload, key=str(payload.get("productNo", 1)))


def liked(event_id: int, product: int, count: int, version: int) -> Envelope:
    return envelope(event_id, "PRODUCT_LIKED", productNo=product, productLikeCount=count, version=version)


def paid(event_id: int, *lines: tuple[int, str]) -> Envelope:
    """PAYMENT_CONFIRM with lines (productNo, status), as order builds it (tests/payloads.py)."""
    order_lines = [
        ConfirmLine(event_id * 100 + i, 1, "1000.00", status, product_no=p) for i, (p, status) in enumerate(lines)
    ]
    return payment_confirm(f"order-{event_id}", order_lines, event_id=event_id)


@pytest.fixture
def ranking() -> FakeRanking:
    return FakeRanking()


@pytest.fixture
def effects(ranking: FakeRanking) -> RankingHandlers:
    return RankingHandlers(ranking, lambda: NOW)


async def test_a_like_reaches_the_ranking_under_its_event_id_at_the_consumers_now(
    ranking: FakeRanking, effects: RankingHandlers
) -> None:
    await effects.on_like(liked(11, product=3, count=2, version=0))
    assert ranking.calls == [(11, NOW)]
    assert ranking.totals == {("likes", 3): (2,)}


async def test_a_stale_like_version_changes_nothing(ranking: FakeRanking, effects: RankingHandlers) -> None:
    await effects.on_like(liked(1, product=3, count=5, version=4))
    await effects.on_like(liked(2, product=3, count=9, version=3))  # older, arriving late
    await effects.on_like(liked(3, product=3, count=9, version=4))  # same version, another event
    assert ranking.totals == {("likes", 3): (5,)}
    assert ranking.versions == {("likes", 3): 4}


async def test_a_redelivered_payment_counts_once_and_only_its_success_lines(
    ranking: FakeRanking, effects: RankingHandlers
) -> None:
    confirm = paid(21, (1, "SUCCESS"), (1, "SUCCESS"), (2, "FAILURE"), (3, "SUCCESS"))
    await effects.on_payment(confirm)
    await effects.on_payment(confirm)
    assert ranking.paid == {1: 2, 3: 1}


async def test_a_payment_without_a_success_line_never_reaches_the_ranking(
    ranking: FakeRanking, effects: RankingHandlers
) -> None:
    await effects.on_payment(paid(31, (1, "FAILURE")))
    assert ranking.calls == []


@pytest.mark.parametrize(
    "bad",
    [
        envelope(41, "PRODUCT_LIKED", productNo=1, productLikeCount=-1, version=0),
        envelope(42, "PRODUCT_CREATED_REVIEW", productNo=1, reviewCount=1, version=0),  # no star sum
        envelope(43, "PAYMENT_CONFIRM", paymentOrderList="all of them"),
    ],
)
async def test_a_payload_that_cannot_be_read_is_permanent_and_never_reaches_the_ranking(
    ranking: FakeRanking, effects: RankingHandlers, bad: Envelope
) -> None:
    handler = {"PRODUCT_LIKED": effects.on_like, "PRODUCT_CREATED_REVIEW": effects.on_review}.get(
        bad.type, effects.on_payment
    )
    with pytest.raises(PermanentError):
        await handler(bad)
    assert ranking.calls == []
