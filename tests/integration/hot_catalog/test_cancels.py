"""PAYMENT_CANCELED on the ranking, in the real script (``ranking.APPLY``) and through the broker: each canceled
line takes out the paid weight its paid line added — once per line, whatever the event ids, before or after its
PAYMENT_CONFIRM, and not again after the rebuild replayed it — and a product back at 0 leaves the list."""

from __future__ import annotations

import datetime as dt
import random

from redis.asyncio import Redis

from kiwishop.hot_catalog import consumers
from kiwishop.hot_catalog.app import create_app
from kiwishop.hot_catalog.domain import SEOUL, CanceledLine, Weights
from kiwishop.hot_catalog.ranking import APPLIED, Ranking
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings
from tests.cancel_payloads import payment_canceled
from tests.integration.catalog_like.servers import register_product
from tests.integration.hot_catalog.conftest import SettingsFactory
from tests.integration.hot_catalog.events import liked, paid
from tests.support import consumed_past, read_to_end, running_app, unique

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=SEOUL)


async def apply(ranking: Ranking, *envelopes: Envelope) -> None:
    handlers = {kind.name: handler for kind, handler in consumers.handlers(ranking, lambda: NOW).items()}
    for envelope in envelopes:
        await handlers[envelope.type](envelope)


async def listing(redis: Redis, ranking: Ranking) -> list[tuple[int, int]]:
    return [(e.product_no, e.score) for e in await ranking.page(NOW, 0, 1000)]


def line_nos(confirm: Envelope) -> list[int]:
    return [line["paymentOrderNo"] for line in confirm.payload["paymentOrderList"]]


async def test_a_canceled_line_takes_out_its_paid_weight_once_and_a_product_back_at_zero_leaves_the_list(
    redis: Redis,
) -> None:
    ranking = Ranking(redis, prefix=unique("rank-cancel"), weights=Weights())
    confirm = paid(31, 31, 32)
    first, second, third = line_nos(confirm)
    await apply(ranking, confirm, liked(32, 1, 0))
    assert await listing(redis, ranking) == [(31, 20), (32, 12)]
    cancel = payment_canceled(confirm, [first, third])
    await apply(ranking, cancel, cancel)  # redelivered
    await apply(ranking, payment_canceled(confirm, [first], cancel_no=2))  # another event, a line taken out before
    assert await listing(redis, ranking) == [(31, 10), (32, 2)]
    await apply(ranking, payment_canceled(confirm, [second], already_canceled=[first, third], cancel_no=3))
    assert await listing(redis, ranking) == [(32, 2)]
    assert await redis.hmget(ranking.product_key(31), ["paid", "canceled"]) == [b"2", b"2"]


async def test_a_cancel_before_its_payment_and_the_rebuilds_replay_of_its_line_count_once(redis: Redis) -> None:
    ranking = Ranking(redis, prefix=unique("rank-cancel"), weights=Weights())
    confirm = paid(41, 42)
    first, _ = line_nos(confirm)
    await apply(ranking, payment_canceled(confirm, [first]))  # ahead of its order: the product is below 0
    assert await listing(redis, ranking) == []
    await apply(ranking, confirm)
    assert await listing(redis, ranking) == [(42, 10)]
    replayed = ranking.canceled_call(None, [CanceledLine(first, 41)], NOW)  # as ``kiwishop rebuild-hot-catalog``
    await ranking.run([replayed])
    assert await listing(redis, ranking) == [(42, 10)]
    assert await redis.hget(ranking.product_key(41), "canceled") == b"1"
    outcome = await ranking.apply_canceled_lines(987_654_321, [CanceledLine(first, 41)], NOW)  # another event id
    assert outcome == APPLIED  # the event is new, but its line was taken out already: nothing more
    assert await redis.hget(ranking.product_key(41), "canceled") == b"1"


async def test_cancels_through_the_broker_redelivered_and_ahead_of_their_payments_give_the_same_list(
    hot_settings: SettingsFactory, hot_catalog_url: str, publisher: KafkaPublisher, infra: InfraSettings
) -> None:
    a, b = [await register_product(hot_catalog_url) for _ in range(2)]
    settings = hot_settings()
    first, second = paid(a, a, b), paid(b)
    events = [
        first,
        second,
        payment_canceled(first, line_nos(first)[:1]),
        payment_canceled(second, line_nos(second)),
        liked(a, 1, 0),
    ]
    delivered = random.sample(events * 2, k=len(events) * 2)
    async with running_app(create_app(settings)) as client:
        records = [
            OutgoingRecord(settings.like_topic if e.type == "PRODUCT_LIKED" else settings.payment_topic, e.key,
                           e.to_json())
            for e in delivered
        ]  # fmt: skip
        assert await publisher.send_many(records) == [None] * len(records)

        for topic in (settings.like_topic, settings.payment_topic):  # every record consumed: nothing more to come
            last = {r.partition: r for r in await read_to_end(infra, topic)}
            for record in last.values():
                await consumed_past(infra, settings.consumer_group, record)
        products = (await client.get("/api/hot-products")).json()["productList"]
    assert [(p["productNo"], p["score"]) for p in products] == [(a, 2 + 10), (b, 10)]
