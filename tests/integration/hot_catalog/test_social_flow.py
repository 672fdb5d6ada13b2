"""Likes, reviews and payments end to end, in one process: catalog-like and catalog-review write through
their outboxes to the broker, hot-catalog consumes, ``GET /api/hot-products`` lists by descending score
(issue 6 acceptance: "after likes/reviews/payments, GET /api/hot-products lists products by descending
score"). Every service gets this test's own topics and keys; catalog is real, over HTTP."""

from __future__ import annotations

import asyncio

from kiwishop.catalog_like.app import SERVICE as LIKE
from kiwishop.catalog_like.app import create_app as create_like_app
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.catalog_review.app import SERVICE as REVIEW
from kiwishop.catalog_review.app import create_app as create_review_app
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.hot_catalog.app import create_app as create_hot_app
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog_like.servers import register_product
from tests.integration.hot_catalog.conftest import SettingsFactory
from tests.integration.hot_catalog.events import paid
from tests.support import as_member, eventually, running_app


async def test_likes_reviews_and_payments_rank_products_by_descending_score(
    infra: InfraSettings, hot_settings: SettingsFactory, hot_catalog_url: str, publisher: KafkaPublisher
) -> None:
    a, b, c, d = [await register_product(hot_catalog_url) for _ in range(4)]
    hot = hot_settings()
    like_settings = CatalogLikeSettings(
        infra=infra, db_name="it_flow_like", node_id=126, catalog_url=hot_catalog_url, topic=hot.like_topic
    )
    review_settings = CatalogReviewSettings(
        infra=infra, db_name="it_flow_review", node_id=125, catalog_url=hot_catalog_url, topic=hot.review_topic
    )
    await migrate(infra, like_settings.db_name, LIKE.migrations)
    await migrate(infra, review_settings.db_name, REVIEW.migrations)
    async with (
        running_app(create_like_app(like_settings)) as likes,
        running_app(create_review_app(review_settings)) as reviews,
        running_app(create_hot_app(hot)) as hot_catalog,
    ):
        like = "/api/catalog-likes/products/{}/members/{}"
        writes = await asyncio.gather(*(likes.post(like.format(a, m), headers=as_member(m)) for m in (1, 2, 3)))
        writes.append(await likes.post(like.format(d, 1), headers=as_member(1)))
        writes.append(await reviews.post("/api/product-reviews", json=review(b, "FIVE"), headers=as_member(1)))
        writes.append(await reviews.post("/api/product-reviews", json=review(d, "ONE"), headers=as_member(1)))
        writes.append(await reviews.post("/api/product-reviews", json=review(c, "FOUR"), headers=as_member(1)))
        gone = f"/api/product-reviews/{writes[-1].json()['productReviewNo']}"
        writes.append(await reviews.delete(gone, headers=as_member(1)))
        payment = paid(c, c)
        await publisher.send(OutgoingRecord(hot.payment_topic, payment.key, payment.to_json()))
        writes.append(await likes.delete(like.format(a, 3), headers=as_member(3)))
        assert [w.status_code for w in writes] == [204, 204, 204, 204, 201, 201, 201, 204, 204]

        async def listed() -> list[tuple[int, int]]:
            products = (await hot_catalog.get("/api/hot-products")).json()["productList"]
            return [(p["productNo"], p["score"]) for p in products]

        await eventually(listed, lambda got: got == [(b, 28), (c, 20), (d, 2 + 3 + 5), (a, 4)], timeout_s=30)
        assert [p["rank"] for p in (await hot_catalog.get("/api/hot-products")).json()["productList"]] == [1, 2, 3, 4]


def review(product: int, stars: str) -> dict[str, object]:
    return {"productNo": product, "memberNo": 1, "title": "t", "content": "c", "starRatingType": stars}
