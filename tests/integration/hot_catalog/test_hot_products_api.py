"""hot-catalog as a service: events from the broker, ``GET /api/hot-products`` over HTTP, real catalog
(catalog.md acceptance tests 20–22; issue 6: "the same events delivered twice or out of order give the
same ranking").

Pinned: products come in rank order (score, then product number) with ``score`` and ``rank``; ids catalog
does not know are skipped and the next ranked ones fill the list; at most 10; catalog down → 503 HOT0001
with the error body (no ids-only fallback); a poison record is parked once in ``<topic>.DLT``.
"""

from __future__ import annotations

import datetime as dt
import random

import httpx

from kiwishop.hot_catalog.app import create_app
from kiwishop.hot_catalog.domain import like_update
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog_like.servers import dead_url, register_product
from tests.integration.hot_catalog.conftest import SettingsFactory
from tests.integration.hot_catalog.events import liked, paid, reviewed
from tests.support import eventually, headers_dict, read_topic, running_app

UNKNOWN = 999_999_000_001


async def send(publisher: KafkaPublisher, topic: str, *envelopes: Envelope) -> None:
    errors = await publisher.send_many([OutgoingRecord(topic, e.key, e.to_json()) for e in envelopes])
    assert errors == [None] * len(envelopes)


async def hot(client: httpx.AsyncClient) -> list[tuple[int, int, int]]:
    response = await client.get("/api/hot-products")
    assert response.status_code == 200, response.text
    return [(p["productNo"], p["score"], p["rank"]) for p in response.json()["productList"]]


async def test_products_are_listed_by_descending_score_with_catalog_data_skipping_unknown_ids(
    hot_settings: SettingsFactory, hot_catalog_url: str, publisher: KafkaPublisher
) -> None:
    a, b, c = [await register_product(hot_catalog_url, price) for price in ("1000", "2000", "3000")]
    settings = hot_settings()
    async with running_app(create_app(settings)) as client:
        assert (await client.get("/api/hot-products")).json() == {"productList": []}
        await send(publisher, settings.like_topic, liked(a, 2, 1), liked(UNKNOWN, 500, 0))
        await send(publisher, settings.review_topic, reviewed(b, 1, 5, 0))
        await send(publisher, settings.payment_topic, paid(c))
        expected = [(b, 28, 1), (c, 10, 2), (a, 4, 3)]
        await eventually(lambda: hot(client), lambda got: got == expected, timeout_s=30)
        response = await client.get("/api/hot-products")
        product_b = (await httpx.AsyncClient(base_url=hot_catalog_url).get(f"/products/{b}")).json()
    first = response.json()["productList"][0]
    assert first == product_b | {"score": 28, "rank": 1}
    assert list(first) == ["productNo", "sellerNo", "productId", "name", "price", "score", "rank"]
    assert b'"price":2000.00' in response.content


async def test_at_most_ten_products_are_listed(
    hot_settings: SettingsFactory, hot_catalog_url: str, publisher: KafkaPublisher
) -> None:
    products = [await register_product(hot_catalog_url) for _ in range(12)]
    settings = hot_settings()
    async with running_app(create_app(settings)) as client:
        await send(publisher, settings.like_topic, *(liked(p, i + 1, 0) for i, p in enumerate(products)))
        expected = [(p, 2 * (12 - i), i + 1) for i, p in enumerate(reversed(products[2:]))]
        await eventually(lambda: hot(client), lambda got: got == expected, timeout_s=30)


async def test_catalog_down_is_a_503_with_the_error_body(hot_settings: SettingsFactory) -> None:
    settings = hot_settings(catalog_url=dead_url())
    app = create_app(settings)
    async with running_app(app) as client:
        update = like_update({"productNo": 1, "productLikeCount": 1, "version": 0})
        await app.state.ranking.apply_totals(1, update, dt.datetime.now(dt.UTC))
        response = await client.get("/api/hot-products", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.json() == {"code": "HOT0001", "message": "The catalog cannot be reached; try again shortly."}


async def test_redis_down_is_a_503_with_the_error_body(hot_settings: SettingsFactory, infra: InfraSettings) -> None:
    settings = hot_settings()
    dead_redis = infra.model_copy(update={"redis_url": dead_url().replace("http", "redis") + "/0"})
    async with running_app(create_app(settings.model_copy(update={"infra": dead_redis}))) as client:
        response = await client.get("/api/hot-products", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.json() == {"code": "HOT0002", "message": "The ranking cannot be read; try again shortly."}


async def test_poison_records_are_parked_once_and_consumption_goes_on(
    hot_settings: SettingsFactory, hot_catalog_url: str, publisher: KafkaPublisher, infra: InfraSettings
) -> None:
    product = await register_product(hot_catalog_url)
    settings = hot_settings()
    topic = settings.like_topic
    unknown_type = Envelope(event_id=1, type="PRODUCT_SHARED", payload={"productNo": product}, key=str(product))
    no_version = liked(product, 5, 0)
    del no_version.payload["version"]
    future = Envelope(event_id=2, type="PRODUCT_LIKED", payload=liked(product, 9, 9).payload, key="p", version=2)
    async with running_app(create_app(settings)) as client:
        records = [
            OutgoingRecord(topic, "p", b"{not json"),
            *(OutgoingRecord(topic, "p", e.to_json()) for e in (unknown_type, no_version, future)),
        ]
        assert await publisher.send_many(records) == [None] * 4
        await send(publisher, topic, liked(product, 1, 0))
        await eventually(lambda: hot(client), lambda got: got == [(product, 2, 1)], timeout_s=30)
        parked = await read_topic(infra, f"{topic}.DLT", expect=4)
    assert sorted(r.value for r in parked) == sorted(r.value for r in records)
    for record in parked:
        headers = headers_dict(record)
        assert headers["kiwi.dlt.original.topic"] == topic
        assert headers["kiwi.dlt.consumer.group"] == settings.consumer_group
        assert headers["kiwi.dlt.error"]


async def test_the_same_events_twice_and_out_of_order_give_the_same_list(
    hot_settings: SettingsFactory, hot_catalog_url: str, publisher: KafkaPublisher
) -> None:
    p = [await register_product(hot_catalog_url) for _ in range(4)]
    likes = [liked(p[0], 1, 0), liked(p[0], 2, 1), liked(p[0], 1, 2), liked(p[1], 1, 0), liked(p[3], 1, 0)]
    reviews = [reviewed(p[1], 1, 4, 0), reviewed(p[2], 1, 1, 0), reviewed(p[2], 0, 0, 1, deleted=True)]
    payments = [paid(p[2], p[3]), paid(p[3])]
    expected = [(p[1], 2 + 3 + 20, 1), (p[3], 2 + 20, 2), (p[2], 10, 3), (p[0], 2, 4)]
    rng = random.Random(4)
    for attempt in range(2):
        settings = hot_settings()
        streams = {settings.like_topic: likes, settings.review_topic: reviews, settings.payment_topic: payments}
        async with running_app(create_app(settings)) as client:
            for topic, events in streams.items():
                delivered = list(events) if attempt == 0 else rng.sample(events * 2, k=len(events) * 2)
                await send(publisher, topic, *delivered)
            await eventually(lambda client=client: hot(client), lambda got: got == expected, timeout_s=30)
