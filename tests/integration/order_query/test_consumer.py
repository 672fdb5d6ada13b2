"""The PAYMENT_CONFIRM consumer through a real broker, on a private topic (so hand-made events never reach
other services' consumers): duplicates, reordering, and what goes to the DLT."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis

from kiwishop.order_query.app import create_app
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings
from tests.payloads import ConfirmLine, payment_confirm
from tests.support import eventually, headers_dict, read_topic, running_app, unique


def payload(number: int, member: int, **changes: Any) -> dict[str, Any]:
    """A PAYMENT_CONFIRM payload as order builds it (tests/payloads.py: more fields than the read model keeps),
    with ``changes`` made on purpose."""
    lines = [
        ConfirmLine(number + 1, seller_no=1, amount="1000.00", product_no=1, product_name="상품A"),
        ConfirmLine(number + 2, seller_no=1, amount="2000.00", product_no=2, product_name="상품B"),
    ]
    event = payment_confirm(
        f"order-{number}", lines, payment_event_no=number, member_no=member, payment_key=f"tgen_{number}", **changes
    )
    return dict(event.payload)


class Topic:
    def __init__(self, infra: InfraSettings, name: str) -> None:
        self.name = name
        self.publisher = KafkaPublisher(infra)

    async def send(self, event_id: int, event_type: str, body: dict[str, Any], version: int = 1) -> None:
        envelope = Envelope(event_id=event_id, type=event_type, payload=body, key="k", version=version)
        await self.publisher.send(OutgoingRecord(self.name, str(body.get("orderId", "k")), envelope.to_json()))


@pytest.fixture
async def topic(oq_infra: InfraSettings) -> AsyncIterator[Topic]:
    opened = Topic(oq_infra, unique("it-payment"))
    yield opened
    await opened.publisher.close()


async def test_duplicated_and_reordered_events_give_one_model_per_order_and_a_newest_first_index(
    topic: Topic, oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    member = random.randint(10**9, 10**12)
    settings = oq_settings(payment_topic=topic.name)
    numbers = [10**17 + i * 4096 for i in range(1, 9)]
    events = [(1000 + i, n) for i, n in enumerate(numbers)]
    random.shuffle(events)
    store = ReadModelStore.for_settings(redis, settings)
    async with running_app(create_app(settings)):
        for event_id, number in [*events, *events[:3]]:  # three delivered twice
            await topic.send(event_id, "PAYMENT_CONFIRM", payload(number, member))
        await topic.send(9999, "PAYMENT_CONFIRM", payload(numbers[0], member, orderName="republished"))
        state = await eventually(
            lambda: store.index_state(member), lambda s: len(s.numbers) == len(numbers), timeout_s=30
        )
        await eventually(lambda: redis.exists(store.keys.applied(9999)), lambda n: n == 1, timeout_s=30)
    assert state.numbers == sorted(numbers, reverse=True)
    model = json.loads(await store.detail(member, numbers[0]) or b"{}", parse_float=Decimal)
    assert model["orderName"] == "상품A 그외"  # the first paid model is final
    assert list(model) == [
        "paymentEventNo", "memberNo", "orderId", "paymentKey", "orderName", "method", "type", "approvedDateTime",
        "paymentOrderList", "paymentDone",
    ]  # fmt: skip
    assert model["paymentOrderList"][1] == {
        "paymentOrderNo": numbers[0] + 2, "productNo": 2, "amount": Decimal("2000.00"), "status": "SUCCESS",
        "productName": "상품B",
    }  # fmt: skip
    assert all([await redis.exists(store.keys.applied(event_id)) for event_id, _ in events])


async def test_unpaid_malformed_unknown_and_future_events_go_to_the_dlt_once_and_consumption_goes_on(
    topic: Topic, oq_settings: Callable[..., OrderQuerySettings], redis: Redis, oq_infra: InfraSettings
) -> None:
    member = random.randint(10**9, 10**12)
    settings = oq_settings(payment_topic=topic.name)
    store = ReadModelStore.for_settings(redis, settings)
    async with running_app(create_app(settings)):
        await topic.send(1, "PAYMENT_CONFIRM", payload(11, member, paymentDone=False))
        await topic.send(2, "PAYMENT_CONFIRM", payload(12, member, paymentOrderList=[]))
        await topic.send(3, "PAYMENT_REFUNDED", payload(13, member))
        await topic.send(4, "PAYMENT_CONFIRM", payload(14, member), version=2)
        await topic.send(5, "PAYMENT_CONFIRM", payload(15, member))
        await eventually(lambda: store.index_state(member), lambda s: s.numbers == [15], timeout_s=30)
        parked = await read_topic(oq_infra, f"{topic.name}.DLT", expect=4)
    assert sorted(json.loads(r.value)["eventId"] for r in parked) == [1, 2, 3, 4]
    assert {headers_dict(r)["kiwi.dlt.consumer.group"] for r in parked} == {settings.consumer_group}
    assert await store.detail(member, 11) is None
