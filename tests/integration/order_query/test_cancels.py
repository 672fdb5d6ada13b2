"""PAYMENT_CANCELED in the real scripts (``lua.APPLY``, ``lua.CANCEL``, ``lua.FILL``) against a real Redis: the
model Redis writes is byte for byte the domain's (``domain.with_cancels``), whichever came first — the order's
PAYMENT_CONFIRM, its cancels, or order's own answer — and a repeat changes nothing, in the model or in the
seller sales."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis

from kiwishop.order_query.cache import OriginCache
from kiwishop.order_query.domain import paid_read_model, parse_cancel, sold_lines, with_cancels
from kiwishop.order_query.ports import Caller, PaidPage
from kiwishop.order_query.queries import OrderReads, list_body
from kiwishop.order_query.store import ReadModelRebuilding, ReadModelStore, model_json
from kiwishop.platform.consumer import infrastructure_down
from kiwishop.platform.envelope import Envelope
from tests.cancel_payloads import payment_canceled
from tests.payloads import ConfirmLine, payment_confirm
from tests.support import unique

MEMBER = 77
# names that look like the JSON the scripts patch: they must stay as they are
NAMES = ['상품 "A"', '{"paymentOrderNo":2,"productNo":1,"amount":1.00,"status":"SUCCESS"', ',"orderStatus":"X"}']
numbers = itertools.count(10**15, 100)


@pytest.fixture
def store(redis: Redis) -> ReadModelStore:
    return ReadModelStore(redis, unique("oq-cancel"), index_size=1000, model_ttl_s=3600, applied_ttl_s=3600)


def confirm(seller: int = 5) -> Envelope:
    number = next(numbers)
    lines = [
        ConfirmLine(number + i + 1, seller_no=seller, amount=amount, product_no=i + 1, product_name=NAMES[i])
        for i, amount in enumerate(["1000.00", "0.10", "12345678.90"])
    ]
    return payment_confirm(f"order-{number}", lines, payment_event_no=number, member_no=MEMBER)


def line_nos(event: Envelope) -> list[int]:
    return [line["paymentOrderNo"] for line in event.payload["paymentOrderList"]]


async def apply(store: ReadModelStore, event: Envelope) -> bool:
    if event.type == "PAYMENT_CANCELED":
        return await store.apply_cancel(event.event_id, parse_cancel(event.payload))
    return await store.apply_event(event.event_id, paid_read_model(event.payload), sold_lines(event.payload))


async def detail(store: ReadModelStore, event: Envelope) -> bytes | None:
    return await store.detail(MEMBER, event.payload["paymentEventNo"])


def expected(event: Envelope, canceled: set[int]) -> bytes:
    return model_json(with_cancels(paid_read_model(event.payload), canceled))


@pytest.mark.parametrize("cancel_first", [False, True], ids=["confirm first", "cancel first"])
async def test_every_cancel_of_every_subset_of_lines_is_written_byte_for_byte_as_the_domain_writes_it(
    store: ReadModelStore, cancel_first: bool
) -> None:
    for size in (1, 2, 3):
        for subset in itertools.combinations(range(3), size):
            paid = confirm()
            nos = line_nos(paid)
            cancels = [payment_canceled(paid, [nos[i]], cancel_no=n + 1) for n, i in enumerate(subset)]
            for event in [*cancels, paid] if cancel_first else [paid, *cancels]:
                assert await apply(store, event)
            assert await detail(store, paid) == expected(paid, {nos[i] for i in subset})
    body = json.loads(await detail(store, paid) or b"{}", parse_float=Decimal)
    assert [line["productName"] for line in body["paymentOrderList"]] == NAMES
    assert (body["orderStatus"], body["canceledAmount"]) == ("CANCELED", Decimal("12346679.00"))


async def test_a_repeated_cancel_or_a_second_cancel_of_the_same_line_changes_neither_model_nor_sales(
    store: ReadModelStore, redis: Redis
) -> None:
    paid = confirm(seller=51)
    nos = line_nos(paid)
    first = payment_canceled(paid, nos[:2])
    for event in (paid, first):
        assert await apply(store, event)
    before = (await detail(store, paid), await store.seller_sales(51))
    assert not await apply(store, first)  # redelivered
    assert not await apply(store, paid)
    assert await apply(store, payment_canceled(paid, nos[1:2], cancel_no=2))  # a new event id, a line given back
    assert await apply(store, confirm_again(paid))  # re-published under another id
    assert (await detail(store, paid), await store.seller_sales(51)) == before
    assert await redis.ttl(store.keys.canceled(MEMBER, paid.payload["paymentEventNo"])) > 0


def confirm_again(paid: Envelope) -> Envelope:
    return Envelope(paid.event_id + 1, paid.type, paid.payload, paid.key)


async def test_a_model_filled_from_orders_answer_shows_the_cancels_seen_before_it_and_those_order_shows(
    store: ReadModelStore,
) -> None:
    paid = confirm()
    nos = line_nos(paid)
    assert await apply(store, payment_canceled(paid, [nos[0]]))  # consumed while the model was gone
    as_order_shows_it = with_cancels(paid_read_model(paid.payload), {nos[2]})  # order knows a later cancel
    number = paid.payload["paymentEventNo"]
    await store.fill(MEMBER, [(number, model_json(as_order_shows_it))])
    assert await detail(store, paid) == expected(paid, {nos[0], nos[2]})
    assert await apply(store, payment_canceled(paid, [nos[2]], cancel_no=2))  # its event, later: nothing new
    assert await detail(store, paid) == expected(paid, {nos[0], nos[2]})


async def test_the_seller_sales_net_what_was_paid_and_given_back_per_product_across_orders(
    store: ReadModelStore,
) -> None:
    seller = 52
    orders = [confirm(seller) for _ in range(3)]
    events: list[Envelope] = []
    for paid in orders:
        events += [paid, confirm_again(paid)]
    events.append(payment_canceled(orders[0], line_nos(orders[0])))  # the whole order given back
    events.append(payment_canceled(orders[1], line_nos(orders[1])[1:2]))  # 0.10 of it
    for event in events[::-1]:  # cancels before their orders
        await apply(store, event)
    rows: list[dict[str, Any]] = json.loads(await store.seller_sales(seller), parse_float=Decimal)[
        "orderTotalAmountGroupingProductList"
    ]
    assert [(r["productNo"], r["paidCount"], r["canceledCount"], r["amount"]) for r in rows] == [
        (2, 3, 2, Decimal("0.10")),
        (1, 3, 1, Decimal("2000.00")),
        (3, 3, 1, Decimal("24691357.80")),
    ]
    assert rows[0] == {
        "amount": Decimal("0.10"), "productNo": 2, "productName": NAMES[1], "paidCount": 3,
        "paidAmount": Decimal("0.30"), "canceledCount": 2, "canceledAmount": Decimal("0.20"),
    }  # fmt: skip
    assert await store.seller_sales(seller + 1000) == b'{"orderTotalAmountGroupingProductList":[]}'


class OrderShowingCancels:
    """order's O6/O7 once order's cancel is built: the paid order, its given-back lines CANCELED (and whatever
    summary fields order adds: the read model derives its own from the lines)."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event

    async def paid_page(self, member_no: int, cursor: int | None, limit: int, *, authorization: str) -> PaidPage:
        return PaidPage([self.event] if cursor is None else [], None)

    async def detail(self, payment_event_no: int, member_no: int, *, authorization: str) -> dict[str, Any] | None:
        return self.event


async def test_orders_answers_with_canceled_lines_are_served_and_kept_as_the_events_would_write_them(
    store: ReadModelStore, redis: Redis
) -> None:
    paid = confirm()
    nos = line_nos(paid)
    number = paid.payload["paymentEventNo"]
    shown = json.loads(model_json(with_cancels(paid_read_model(paid.payload), {nos[1]})), parse_float=Decimal)
    shown.update(orderStatus="PARTIAL_CANCELED", canceledAmount=Decimal("0.10"), refundableAmount=Decimal("1"))
    cache = OriginCache(redis, store.keys, logical_ttl_s=2.0, physical_ttl_s=30.0, lock_ttl_s=5.0, wait_s=4.0)
    reads = OrderReads(store, cache, OrderShowingCancels(shown), fill_page_size=100)
    ops = Caller("Bearer ops", sees_keys=True)  # order's answer with the key, as ops sees it
    assert await reads.history(MEMBER, None, 10, ops) == list_body([expected(paid, {nos[1]})], None)
    assert await reads.detail(number, MEMBER, ops) == expected(paid, {nos[1]})
    assert await store.detail(MEMBER, number) == expected(paid, {nos[1]})  # kept, in the events' shape
    assert await store.page(MEMBER, None, 10) == list_body([expected(paid, {nos[1]})], None)  # and proven
    assert await apply(store, payment_canceled(paid, [nos[1]]))  # its PAYMENT_CANCELED, consumed later
    assert await store.detail(MEMBER, number) == expected(paid, {nos[1]})


class ClearWithTraffic(ReadModelStore):
    """The consumer tries to apply a cancel between every two batches of this store's clear."""

    outcomes: list[bool | str]
    cancel: Envelope

    async def _unlink(self, token: str, keys: list[bytes]) -> int:
        try:
            self.outcomes.append(await apply(self, self.cancel))
        except ReadModelRebuilding:
            self.outcomes.append("waited")
        return await super()._unlink(token, keys)


async def test_an_event_arriving_in_the_middle_of_a_clear_waits_until_every_key_is_gone_then_counts_once(
    redis: Redis,
) -> None:
    store = ClearWithTraffic(redis, unique("oq-fence"), index_size=1000, model_ttl_s=3600, applied_ttl_s=3600)
    paid = confirm(seller=53)
    store.outcomes, store.cancel = [], payment_canceled(paid, line_nos(paid)[:1])
    await apply(store, paid)
    await redis.mset({f"{store.keys.prefix}:filler:{i}": b"x" for i in range(2500)})  # several batches
    assert await store.clear() >= 2500
    assert store.outcomes == ["waited"] * len(store.outcomes)
    assert len(store.outcomes) >= 3
    assert infrastructure_down(ReadModelRebuilding("x"))  # the consumer waits for it: never retried or parked
    assert [key async for key in redis.scan_iter(match=f"{store.keys.prefix}:*")] == []
    for event in (paid, store.cancel, store.cancel):  # the replay, and the consumer's waiting cancel (twice)
        await apply(store, event)
    row = json.loads(await store.seller_sales(53))["orderTotalAmountGroupingProductList"][0]
    assert (row["productNo"], row["paidCount"], row["canceledCount"]) == (1, 1, 1)
