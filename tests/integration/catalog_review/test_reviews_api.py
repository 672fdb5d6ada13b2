"""catalog-review over HTTP against real MariaDB, broker and catalog (catalog.md acceptance tests 11–16, 25).

Pinned choices: create answers 201 with the review (``productReviewNo`` as a JSON number, like every id of
the original — JavaScript clients must read ids above 2^53 as strings, G16); a second delete of the same
review is a 204 no-op; an unknown review is 404 REV0003; the product is checked against catalog on create
(unknown → 404 REV0001, catalog down → 503 REV0002); the same body posted twice makes two reviews (no
natural key); a numeric string is accepted for productNo/memberNo (the original's README sends one).
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kiwishop.catalog_review import handlers
from kiwishop.catalog_review.app import create_app
from kiwishop.catalog_review.domain import StarRating
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.contracts.topics import PRODUCT_REVIEW
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from tests.integration.catalog_like.servers import dead_url
from tests.integration.catalog_review.reviews import body, outbox_events, review_rows, rows, table_sizes, totals
from tests.support import as_member, eventually, read_topic, running_app

ME = as_member(1)  # body()'s memberNo: the author of the reviews these tests write
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}


async def test_a_review_is_201_with_its_number_stored_counted_and_announced(
    reviews: httpx.AsyncClient, review_db: Database, product: int
) -> None:
    response = await reviews.post("/api/product-reviews", json=body(product, "FOUR", memberNo=3), headers=as_member(3))
    assert response.status_code == 201
    created = response.json()
    (row,) = await review_rows(review_db, product)
    assert created == {
        "productReviewNo": row.product_review_no,
        "productNo": product,
        "memberNo": 3,
        "title": "좋아요",
        "content": "내용",
        "starRatingType": "FOUR",
        "starRating": 4,
        "isDeleted": False,
        "createdAt": row.created_at.isoformat(timespec="milliseconds") + "Z",
    }
    assert (row.is_deleted, row.star_rating) == (0, 4)
    assert await totals(review_db, product) == (1, 4, 0)
    assert await outbox_events(review_db, product) == [
        {
            "type": "PRODUCT_CREATED_REVIEW",
            "key": f"PRODUCT_CREATED_REVIEW:{row.product_review_no}",
            "catalogReviewNo": row.product_review_no,
            "productNo": product,
            "memberNo": 3,
            "title": "좋아요",
            "content": "내용",
            "starRating": 4,
            "isDeleted": False,
            "reviewCount": 1,
            "reviewStarRatingSum": 4,
            "version": 0,
        }
    ]


@pytest.mark.parametrize(("name", "value"), STARS.items())
async def test_each_star_rating_type_maps_to_its_number_of_stars(
    reviews: httpx.AsyncClient, review_db: Database, product: int, name: str, value: int
) -> None:
    response = await reviews.post("/api/product-reviews", json=body(product, name), headers=ME)
    assert response.status_code == 201
    assert response.json()["starRating"] == value
    assert [r.star_rating for r in await review_rows(review_db, product)] == [value]
    assert await totals(review_db, product) == (1, value, 0)


async def test_deleting_marks_the_review_deleted_subtracts_it_and_announces_is_deleted_true(
    reviews: httpx.AsyncClient, review_db: Database, product: int
) -> None:
    keep = (await reviews.post("/api/product-reviews", json=body(product, "TWO"), headers=ME)).json()
    gone = (await reviews.post("/api/product-reviews", json=body(product, "FIVE"), headers=ME)).json()
    response = await reviews.delete(f"/api/product-reviews/{gone['productReviewNo']}", headers=ME)
    assert response.status_code == 204
    assert response.content == b""
    assert [(r.product_review_no, r.is_deleted) for r in await review_rows(review_db, product)] == [
        (keep["productReviewNo"], 0),
        (gone["productReviewNo"], 1),
    ]
    assert await totals(review_db, product) == (1, 2, 2)
    deleted = (await outbox_events(review_db, product))[-1]
    assert deleted["type"] == "PRODUCT_DELETED_REVIEW"
    assert deleted["key"] == f"PRODUCT_DELETED_REVIEW:{gone['productReviewNo']}"
    assert (deleted["catalogReviewNo"], deleted["starRating"], deleted["isDeleted"]) == (
        gone["productReviewNo"],
        5,
        True,
    )
    assert (deleted["reviewCount"], deleted["reviewStarRatingSum"], deleted["version"]) == (1, 2, 2)


async def test_deleting_twice_drops_the_counts_once_and_emits_one_event(
    reviews: httpx.AsyncClient, review_db: Database, product: int
) -> None:
    review = (await reviews.post("/api/product-reviews", json=body(product, "THREE"), headers=ME)).json()
    url = f"/api/product-reviews/{review['productReviewNo']}"
    assert (await reviews.delete(url, headers=ME)).status_code == 204
    assert (await reviews.delete(url, headers=ME)).status_code == 204
    assert await totals(review_db, product) == (0, 0, 1)
    assert [e["type"] for e in await outbox_events(review_db, product)] == [
        "PRODUCT_CREATED_REVIEW",
        "PRODUCT_DELETED_REVIEW",
    ]


async def test_ten_concurrent_deletes_of_one_review_drop_the_counts_once(
    reviews: httpx.AsyncClient, review_db: Database, product: int
) -> None:
    review = (await reviews.post("/api/product-reviews", json=body(product, "FOUR"), headers=ME)).json()
    url = f"/api/product-reviews/{review['productReviewNo']}"
    responses = await asyncio.gather(*(reviews.delete(url, headers=ME) for _ in range(10)))
    assert [r.status_code for r in responses] == [204] * 10
    assert await totals(review_db, product) == (0, 0, 1)
    assert len(await outbox_events(review_db, product)) == 2


async def test_deleting_an_unknown_review_is_a_404(reviews: httpx.AsyncClient) -> None:
    response = await reviews.delete("/api/product-reviews/424242424242", headers={"Accept-Language": "en", **ME})
    assert response.status_code == 404
    assert response.json() == {"code": "REV0003", "message": "The review does not exist."}
    assert (await reviews.delete("/api/product-reviews/abc", headers=ME)).status_code == 400


async def test_fifty_concurrent_reviews_of_one_product_all_succeed_with_exact_totals(
    reviews: httpx.AsyncClient, review_db: Database, product: int
) -> None:
    names = list(STARS) * 10
    responses = await asyncio.gather(
        *(
            reviews.post("/api/product-reviews", json=body(product, n, memberNo=i + 1), headers=as_member(i + 1))
            for i, n in enumerate(names)
        )
    )
    assert [r.status_code for r in responses] == [201] * 50
    assert await totals(review_db, product) == (50, 150, 49)
    events = await outbox_events(review_db, product)
    assert sorted(e["version"] for e in events) == list(range(50))
    assert sorted(e["reviewCount"] for e in events) == list(range(1, 51))


async def test_the_same_body_twice_makes_two_reviews(
    reviews: httpx.AsyncClient, review_db: Database, product: int
) -> None:
    for _ in range(2):
        assert (await reviews.post("/api/product-reviews", json=body(product), headers=ME)).status_code == 201
    assert await totals(review_db, product) == (2, 10, 1)


async def test_a_product_catalog_does_not_know_is_a_404_and_nothing_is_written(
    reviews: httpx.AsyncClient, review_db: Database
) -> None:
    before = await table_sizes(review_db)
    response = await reviews.post("/api/product-reviews", json=body(987_654_321_013), headers=ME)
    assert response.status_code == 404
    assert response.json()["code"] == "REV0001"
    assert await table_sizes(review_db) == before


async def test_catalog_down_is_a_503_with_the_error_body_and_nothing_is_written(
    review_settings: CatalogReviewSettings, review_db: Database, product: int
) -> None:
    before = await table_sizes(review_db)
    async with running_app(create_app(review_settings.model_copy(update={"catalog_url": dead_url()}))) as client:
        response = await client.post(
            "/api/product-reviews", json=body(product), headers={"Accept-Language": "en", **ME}
        )
    assert response.status_code == 503
    assert response.json() == {"code": "REV0002", "message": "The catalog cannot be reached; try again shortly."}
    assert await table_sizes(review_db) == before


async def test_pages_list_live_reviews_newest_first_and_end_with_a_null_cursor(
    reviews: httpx.AsyncClient, product: int
) -> None:
    made = [
        (await reviews.post("/api/product-reviews", json=body(product, "ONE", title=f"t{i}"), headers=ME)).json()
        for i in range(5)
    ]
    await reviews.delete(f"/api/product-reviews/{made[2]['productReviewNo']}", headers=ME)
    expected = [made[i]["productReviewNo"] for i in (4, 3, 1, 0)]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        page = (await reviews.get(f"/api/product-reviews/products/{product}", params=params)).json()
        seen += [r["productReviewNo"] for r in page["productReviewList"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 2
    first = (await reviews.get(f"/api/product-reviews/products/{product}", params={"limit": "1"})).json()
    assert first["productReviewList"][0]["title"] == "t4"
    assert first["nextCursor"] == str(made[4]["productReviewNo"])


async def test_bad_page_parameters_are_400(reviews: httpx.AsyncClient, product: int) -> None:
    for params in ({"cursor": "abc"}, {"cursor": "-1"}, {"limit": "0"}, {"limit": "x"}):
        response = await reviews.get(f"/api/product-reviews/products/{product}", params=params)
        assert response.status_code == 400, params
        assert response.json()["code"] in {"REV0004", "INVALID_REQUEST"}


async def test_the_summary_is_the_count_and_the_mean_rounded_to_two_decimals(
    reviews: httpx.AsyncClient, product: int
) -> None:
    url = f"/api/product-reviews/products/{product}/summary"
    empty = await reviews.get(url)
    assert empty.json() == {"productNo": product, "reviewCount": 0, "averageStarRating": None}
    made = [
        (await reviews.post("/api/product-reviews", json=body(product, s), headers=ME)).json()
        for s in ("FIVE", "FOUR", "FOUR")
    ]
    summary = await reviews.get(url)
    assert json.loads(summary.content, parse_float=Decimal) == {
        "productNo": product,
        "reviewCount": 3,
        "averageStarRating": Decimal("4.33"),
    }
    assert b'"averageStarRating":4.33' in summary.content
    await reviews.delete(f"/api/product-reviews/{made[1]['productReviewNo']}", headers=ME)
    assert b'"averageStarRating":4.50' in (await reviews.get(url)).content


class FailingOutbox(Outbox):
    async def add(self, uow: UnitOfWork, **kwargs: Any) -> Envelope:
        await super().add(uow, **kwargs)
        raise RuntimeError("injected failure after the outbox insert")


async def test_a_failure_after_the_outbox_insert_rolls_back_the_review_the_totals_and_the_event(
    review_db: Database, product: int
) -> None:
    ids = Snowflake(119)
    new = handlers.NewReview(product, 1, "t", "c", StarRating.FIVE)
    with pytest.raises(RuntimeError, match="injected"):
        await handlers.create_review(review_db, ids, FailingOutbox(ids), new, topic=PRODUCT_REVIEW)
    assert await review_rows(review_db, product) == []
    assert await totals(review_db, product) is None
    assert await outbox_events(review_db, product) == []


async def test_review_events_reach_the_topic_keyed_by_product_and_rows_are_marked_published(
    reviews: httpx.AsyncClient, review_db: Database, product: int, infra: Any
) -> None:
    review = (await reviews.post("/api/product-reviews", json=body(product), headers=ME)).json()
    await reviews.delete(f"/api/product-reviews/{review['productReviewNo']}", headers=ME)

    async def statuses() -> list[Any]:
        return await rows(review_db, "SELECT status FROM outbox WHERE message_key = :k", k=str(product))

    await eventually(statuses, lambda s: [r.status for r in s] == ["SUCCESS", "SUCCESS"], timeout_s=20)
    records = [r for r in await read_topic(infra, PRODUCT_REVIEW) if r.key == str(product).encode()]
    assert [Envelope.from_record(r.key, r.value).type for r in records] == [
        "PRODUCT_CREATED_REVIEW",
        "PRODUCT_DELETED_REVIEW",
    ]
