"""PAYMENT_CANCELED against an in-memory read model with the scripts' rules (``fake_read_model``): lines move
SUCCESS → CANCELED, the order shows PARTIAL_CANCELED / CANCELED with the amount given back, a repeat changes
nothing, a cancel before its order is kept, and the seller sales count each order and each canceled line
once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiwishop.order_query.domain import InvalidEvent
from kiwishop.order_query.handlers import ReadModelHandlers
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from tests.cancel_payloads import payment_canceled
from tests.payloads import ConfirmLine, payment_confirm
from tests.unit.order_query.fake_read_model import FakeReadModel

SELLER_A, SELLER_B = 7, 8
LINES = [
    ConfirmLine(11, seller_no=SELLER_A, amount="1000.00", product_no=1, product_name="상품A"),
    ConfirmLine(12, seller_no=SELLER_A, amount="2000.00", product_no=2, product_name="상품B"),
    ConfirmLine(13, seller_no=SELLER_B, amount="3000.50", product_no=3, product_name="상품C"),
]
NUMBER = 5000


def paid(event_id: int = 1) -> Envelope:
    return payment_confirm("order-cancel-1", LINES, event_id=event_id, payment_event_no=NUMBER, member_no=3)


def statuses(store: FakeReadModel) -> list[str]:
    return [line["status"] for line in store.models[NUMBER]["paymentOrderList"]]


def summary(store: FakeReadModel) -> tuple[Any, Any]:
    model = store.models[NUMBER]
    return model.get("orderStatus"), model.get("canceledAmount")


async def test_a_cancel_moves_its_lines_to_canceled_and_the_order_shows_partially_canceled_with_the_amount() -> None:
    store = FakeReadModel()
    effects = ReadModelHandlers(store)
    await effects.on_payment_confirm(paid())
    assert summary(store) == (None, None)  # a paid order keeps O7's fields alone
    assert await effects.apply_payment_canceled(payment_canceled(paid(), [11, 13]))
    assert statuses(store) == ["CANCELED", "SUCCESS", "CANCELED"]
    assert summary(store) == ("PARTIAL_CANCELED", Decimal("4000.50"))
    assert list(store.models[NUMBER])[-3:] == ["paymentDone", "orderStatus", "canceledAmount"]
    assert store.models[NUMBER]["paymentDone"] is True  # it was paid; what was given back shows beside it


async def test_canceling_the_last_line_cancels_the_order_and_a_repeat_of_either_cancel_changes_nothing() -> None:
    store = FakeReadModel()
    effects = ReadModelHandlers(store)
    first, second = payment_canceled(paid(), [12]), payment_canceled(paid(), [11, 13], already_canceled=[12])
    await effects.on_payment_confirm(paid())
    for event in (first, second):
        assert await effects.apply_payment_canceled(event)
    after = (statuses(store), summary(store), dict(store.sales))
    assert after[:2] == (["CANCELED"] * 3, ("CANCELED", Decimal("6000.50")))
    assert not await effects.apply_payment_canceled(first)  # redelivered
    assert await effects.apply_payment_canceled(payment_canceled(paid(), [12], cancel_no=3))  # a new id, same line
    assert (statuses(store), summary(store), dict(store.sales)) == after


@pytest.mark.parametrize("cancel_first", [True, False])
async def test_a_cancel_that_arrives_before_its_order_is_kept_and_shown_once_the_order_arrives(
    cancel_first: bool,
) -> None:
    store = FakeReadModel()
    effects = ReadModelHandlers(store)
    events = [payment_canceled(paid(), [12]), paid()]
    for event in events if cancel_first else events[::-1]:
        await (effects.on_payment_canceled if event.type == "PAYMENT_CANCELED" else effects.on_payment_confirm)(event)
    assert statuses(store) == ["SUCCESS", "CANCELED", "SUCCESS"]
    assert summary(store) == ("PARTIAL_CANCELED", Decimal("2000.00"))


async def test_the_seller_sales_count_an_order_once_whatever_its_event_ids_and_each_canceled_line_once() -> None:
    store = FakeReadModel()
    effects = ReadModelHandlers(store)
    await effects.on_payment_confirm(paid(1))
    await effects.on_payment_confirm(paid(1))  # redelivered
    await effects.on_payment_confirm(paid(2))  # the same order under another id
    await effects.on_payment_canceled(payment_canceled(paid(), [13]))
    await effects.on_payment_canceled(payment_canceled(paid(), [13, 12], cancel_no=2))  # 13 again: once
    assert dict(store.sales) == {
        (SELLER_A, 1, "paidCount"): 1, (SELLER_A, 1, "paidCents"): 100000,
        (SELLER_A, 2, "paidCount"): 1, (SELLER_A, 2, "paidCents"): 200000,
        (SELLER_A, 2, "canceledCount"): 1, (SELLER_A, 2, "canceledCents"): 200000,
        (SELLER_B, 3, "paidCount"): 1, (SELLER_B, 3, "paidCents"): 300050,
        (SELLER_B, 3, "canceledCount"): 1, (SELLER_B, 3, "canceledCents"): 300050,
    }  # fmt: skip


@settings(max_examples=50, deadline=None)
@given(st.permutations(range(6)), st.lists(st.integers(0, 5), max_size=4))
async def test_any_order_of_delivery_with_repeats_gives_the_same_model_and_sales(
    order: list[int], repeats: list[int]
) -> None:
    events = [
        paid(1),
        paid(2),
        payment_canceled(paid(), [11], event_id=101),
        payment_canceled(paid(), [12], event_id=102),
        payment_canceled(paid(), [12, 13], event_id=103, cancel_no=3),
        payment_canceled(paid(), [11], event_id=104, cancel_no=4),
    ]
    store = FakeReadModel()
    effects = ReadModelHandlers(store)
    for i in [*order, *repeats]:
        event = events[i]
        await (effects.on_payment_canceled if event.type == "PAYMENT_CANCELED" else effects.on_payment_confirm)(event)
    assert summary(store) == ("CANCELED", Decimal("6000.50"))
    assert sum(v for (_, _, field), v in store.sales.items() if field == "canceledCents") == 600050
    assert sum(v for (_, _, field), v in store.sales.items() if field == "paidCents") == 600050


REFUSED = "no lines, lines null, a line without seller, nothing given back, amount not a number, a line twice, "
REFUSED += "amount below a cent, cancelAmount not the sum, "
REFUSED += "paymentEventNo a string, no member, empty orderId"


@pytest.mark.parametrize(
    "changes",
    [
        {"lines": []},
        {"lines": None},
        {"lines": [{"paymentOrderNo": 11, "productNo": 1, "amount": Decimal("1000.00")}]},  # no seller
        {"lines": [{"paymentOrderNo": 11, "productNo": 1, "sellerNo": 7, "amount": Decimal("0.00")}]},
        {"lines": [{"paymentOrderNo": 11, "productNo": 1, "sellerNo": 7, "amount": "abc"}]},
        {"lines": [{"paymentOrderNo": 11, "productNo": 1, "sellerNo": 7, "amount": Decimal("1000.00")}] * 2},
        {"lines": [{"paymentOrderNo": 11, "productNo": 1, "sellerNo": 7, "amount": Decimal("1000.005")}]},
        {"cancelAmount": Decimal("999.00")},
        {"paymentEventNo": str(NUMBER)},
        {"memberNo": None},
        {"orderId": ""},
    ],
    ids=REFUSED.split(", "),
)
async def test_a_cancel_no_retry_can_read_is_parked_by_the_consumer_and_skipped_by_the_rebuild(
    changes: dict[str, Any],
) -> None:
    store = FakeReadModel()
    effects = ReadModelHandlers(store)
    event = payment_canceled(paid(), [11], **changes)
    with pytest.raises(PermanentError):
        await effects.on_payment_canceled(event)
    with pytest.raises(InvalidEvent):
        await effects.apply_payment_canceled(event)
    assert (store.applied, store.canceled, dict(store.sales)) == (set(), {}, {})
