"""PAYMENT_CANCELED on the ranking (``handlers.RankingHandlers.on_payment_canceled``) against the in-memory
ranking of ``test_ranking_handlers``: each canceled line takes out what its paid line added, once — whatever
the event ids, and in any order with its PAYMENT_CONFIRM."""

from __future__ import annotations

from typing import Any

import pytest

from kiwishop.hot_catalog.domain import CanceledLine, InvalidEvent, Weights, canceled_lines, paid_lines
from kiwishop.hot_catalog.handlers import RankingHandlers
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from tests.cancel_payloads import payment_canceled
from tests.unit.hot_catalog.test_ranking_handlers import NOW, FakeRanking, paid


@pytest.fixture
def ranking() -> FakeRanking:
    return FakeRanking()


@pytest.fixture
def effects(ranking: FakeRanking) -> RankingHandlers:
    return RankingHandlers(ranking, lambda: NOW)


def net(ranking: FakeRanking) -> dict[int, int]:
    products = set(ranking.paid) | set(ranking.canceled)
    return {p: ranking.paid.get(p, 0) - ranking.canceled.get(p, 0) for p in sorted(products)}


CONFIRM = paid(61, (1, "SUCCESS"), (1, "SUCCESS"), (2, "SUCCESS"))  # lines 6100, 6101 (product 1), 6102 (2)


async def test_a_canceled_line_takes_out_its_paid_line_once_whatever_the_event_ids(
    ranking: FakeRanking, effects: RankingHandlers
) -> None:
    await effects.on_payment(CONFIRM)
    first = payment_canceled(CONFIRM, [6100])
    await effects.on_payment_canceled(first)
    await effects.on_payment_canceled(first)  # redelivered
    await effects.on_payment_canceled(payment_canceled(CONFIRM, [6100, 6102], cancel_no=2))  # 6100 again
    assert net(ranking) == {1: 1, 2: 0}
    assert [event_id for event_id, _ in ranking.calls[:3]] == [61, first.event_id, first.event_id]
    assert ranking.taken_out == {6100, 6102}


@pytest.mark.parametrize("cancel_first", [True, False])
async def test_a_cancel_before_or_after_its_payment_gives_the_same_net(
    ranking: FakeRanking, effects: RankingHandlers, cancel_first: bool
) -> None:
    cancel = payment_canceled(CONFIRM, [6101, 6102])
    steps = [effects.on_payment_canceled(cancel), effects.on_payment(CONFIRM)]
    for step in steps if cancel_first else steps[::-1]:
        await step
    assert net(ranking) == {1: 1, 2: 0}


def test_a_payment_confirm_counts_its_canceled_lines_as_paid_so_their_cancels_take_them_out_once() -> None:
    """A PAYMENT_CONFIRM order publishes again from its rows after a cancel shows that line CANCELED: it was paid."""
    rebuilt = paid(62, (1, "SUCCESS"), (1, "CANCELED"), (2, "FAILURE"))
    assert paid_lines(rebuilt.payload) == {1: 2}


def test_each_canceled_line_weighs_what_a_paid_line_weighs() -> None:
    assert Weights().score(0, 0, 0, 3, 1) == Weights().score(0, 0, 0, 2)
    assert canceled_lines(payment_canceled(CONFIRM, [6102, 6100]).payload) == [
        CanceledLine(6102, 2),
        CanceledLine(6100, 1),
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"lines": []},
        {"lines": "all of them"},
        {"lines": [{"paymentOrderNo": 6100}]},  # no product
        {"lines": [{"paymentOrderNo": 6100, "productNo": 1}, {"paymentOrderNo": 6100, "productNo": 1}]},
    ],
)
async def test_a_cancel_that_cannot_be_read_is_permanent_and_never_reaches_the_ranking(
    ranking: FakeRanking, effects: RankingHandlers, changes: dict[str, Any]
) -> None:
    bad: Envelope = payment_canceled(CONFIRM, [6100], **changes)
    with pytest.raises(InvalidEvent):
        canceled_lines(bad.payload)
    with pytest.raises(PermanentError):
        await effects.on_payment_canceled(bad)
    assert ranking.calls == []
