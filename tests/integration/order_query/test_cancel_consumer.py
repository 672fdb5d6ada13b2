"""PAYMENT_CANCELED through a real broker (a private topic) into the running order-query: cancels redelivered and
ahead of their orders change the detail and the seller sales exactly once, a cancel no retry can read is
parked once, and ``rebuild`` — replaying the topic — gives back the same details and sums."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from kiwishop.order_query.app import create_app
from kiwishop.order_query.domain import paid_read_model, with_cancels
from kiwishop.order_query.rebuild import rebuild
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore, model_json
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.settings import InfraSettings
from tests.cancel_payloads import payment_canceled
from tests.integration.order_query.test_consumer import Topic
from tests.payloads import ConfirmLine, payment_confirm
from tests.support import as_ops, as_seller, eventually, read_topic, running_app, unique


@pytest.fixture
async def cancel_topic(oq_infra: InfraSettings) -> AsyncIterator[Topic]:
    opened = Topic(oq_infra, unique("it-payment-cancel"))
    yield opened
    await opened.publisher.close()


def paid(number: int, member: int, seller: int) -> Envelope:
    lines = [
        ConfirmLine(number + 1, seller_no=seller, amount="1000.00", product_no=1, product_name="상품A"),
        ConfirmLine(number + 2, seller_no=seller, amount="2000.00", product_no=2, product_name="상품B"),
    ]
    return payment_confirm(f"order-{number}", lines, payment_event_no=number, member_no=member, event_id=number)


async def test_cancels_in_any_order_and_twice_count_once_and_the_rebuild_replays_the_same_details_and_sales(
    cancel_topic: Topic, oq_settings: Callable[..., OrderQuerySettings], redis: Redis, oq_infra: InfraSettings
) -> None:
    member, seller = random.randint(10**9, 10**12), random.randint(10**9, 10**12)
    settings = oq_settings(payment_topic=cancel_topic.name)
    first, second = paid(10**17, member, seller), paid(10**17 + 4096, member, seller)
    events = [
        first,
        second,
        Envelope(first.event_id + 7, first.type, first.payload, first.key),  # re-published under another id
        payment_canceled(first, [10**17 + 2], event_id=31),
        payment_canceled(second, [10**17 + 4097, 10**17 + 4098], event_id=32),
        payment_canceled(second, [10**17 + 4097], event_id=33, cancel_no=2),  # a line given back twice
    ]
    delivered = [*events, *random.sample(events, k=3)]
    random.shuffle(delivered)
    malformed = payment_canceled(first, [10**17 + 1], event_id=34, lines=[])
    store = ReadModelStore.for_settings(redis, settings)
    async with running_app(create_app(settings)) as oq:
        for event in [malformed, *delivered]:
            await cancel_topic.send(event.event_id, event.type, dict(event.payload))
        markers = [store.keys.applied(event.event_id) for event in events]
        await eventually(lambda: redis.exists(*markers), lambda n: n == len(markers), timeout_s=30)
        parked = await read_topic(oq_infra, f"{cancel_topic.name}.DLT", expect=1)
        details = [await oq.get(f"/api/orders/payment-events/{e.payload['paymentEventNo']}/members/{member}",
                                headers=as_ops()) for e in (first, second)]  # fmt: skip
        sales = await oq.get(f"/api/orders/sellers/{seller}", headers=as_seller(seller))
    assert [json.loads(r.value)["eventId"] for r in parked] == [34]
    assert [d.content for d in details] == [
        model_json(with_cancels(paid_read_model(first.payload), {10**17 + 2})),
        model_json(with_cancels(paid_read_model(second.payload), {10**17 + 4097, 10**17 + 4098})),
    ]
    assert json.loads(details[1].content)["orderStatus"] == "CANCELED"
    assert sales.status_code == 200
    assert json.loads(sales.content, parse_float=Decimal) == {
        "orderTotalAmountGroupingProductList": [
            {"amount": Decimal("0.00"), "productNo": 2, "productName": "상품B", "paidCount": 2,
             "paidAmount": Decimal("4000.00"), "canceledCount": 2, "canceledAmount": Decimal("4000.00")},
            {"amount": Decimal("1000.00"), "productNo": 1, "productName": "상품A", "paidCount": 2,
             "paidAmount": Decimal("2000.00"), "canceledCount": 1, "canceledAmount": Decimal("1000.00")},
        ]
    }  # fmt: skip

    result = await rebuild(settings, timeout_s=60)
    assert (result.records, result.skipped) == (len(delivered) + 1, 1)
    assert result.applied == len(events)
    assert [await store.detail(member, e.payload["paymentEventNo"]) for e in (first, second)] == [
        d.content for d in details
    ]
    assert await store.seller_sales(seller) == sales.content


async def test_the_seller_sales_route_validates_the_seller_number(
    oq_settings: Callable[..., OrderQuerySettings],
) -> None:
    async with running_app(create_app(oq_settings())) as oq:
        empty = await oq.get("/api/orders/sellers/1", headers=as_seller(1))
        refused = [await oq.get(f"/api/orders/sellers/{bad}", headers=as_ops()) for bad in ("0", "abc", str(2**63))]
    assert (empty.status_code, empty.json()) == (200, {"orderTotalAmountGroupingProductList": []})
    assert [r.status_code for r in refused] == [400, 400, 400]
    assert {r.json()["code"] for r in refused} == {"INVALID_REQUEST"}
