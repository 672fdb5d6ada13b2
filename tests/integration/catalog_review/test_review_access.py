"""Who may write reviews: a member creates them only in its own name; a review is deleted by its author or ops.
A refusal writes nothing (the review stays, the totals and the outbox do not move); the reads stay open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kiwishop.platform.db import Database
from tests.integration.catalog_review.reviews import body, review_rows, table_sizes, totals
from tests.support import as_member, as_ops, as_seller

AUTHOR = 31
Headers = Callable[[], dict[str, str]]
STRANGERS: list[tuple[Headers, int, str]] = [
    (dict, 401, "AUTH0001"),
    (lambda: {"Authorization": "Bearer not-a-token"}, 401, "AUTH0001"),
    (lambda: as_member(AUTHOR + 1), 403, "AUTH0002"),
    (lambda: as_seller(1), 403, "AUTH0002"),
]
IDS = ["anonymous", "invalid", "another-member", "seller"]


def refused(response: httpx.Response, status: int, code: str) -> bool:
    return (response.status_code, response.json()["code"]) == (status, code)


async def write(reviews: httpx.AsyncClient, product: int) -> dict[str, Any]:
    response = await reviews.post(
        "/api/product-reviews", json=body(product, memberNo=AUTHOR), headers=as_member(AUTHOR)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.mark.parametrize(("headers", "status", "code"), [*STRANGERS, (as_ops, 403, "AUTH0002")], ids=[*IDS, "ops"])
async def test_only_the_member_named_in_the_body_reviews_and_a_refusal_writes_nothing(
    reviews: httpx.AsyncClient, review_db: Database, product: int, headers: Headers, status: int, code: str
) -> None:
    before = await table_sizes(review_db)
    sent = body(product, memberNo=AUTHOR)
    assert refused(await reviews.post("/api/product-reviews", json=sent, headers=headers()), status, code)
    assert await table_sizes(review_db) == before
    assert (await write(reviews, product))["memberNo"] == AUTHOR


async def test_a_refused_review_of_an_unknown_product_is_refused_before_catalog_is_asked(
    reviews: httpx.AsyncClient, review_db: Database
) -> None:
    before = await table_sizes(review_db)
    sent = body(987_654_321_098, memberNo=AUTHOR)  # catalog would say 404 REV0001
    assert refused(
        await reviews.post("/api/product-reviews", json=sent, headers=as_member(AUTHOR + 1)), 403, "AUTH0002"
    )
    assert await table_sizes(review_db) == before


@pytest.mark.parametrize(("headers", "status", "code"), STRANGERS, ids=IDS)
async def test_only_the_author_deletes_and_a_refused_delete_leaves_the_review(
    reviews: httpx.AsyncClient, review_db: Database, product: int, headers: Headers, status: int, code: str
) -> None:
    review = await write(reviews, product)
    url = f"/api/product-reviews/{review['productReviewNo']}"
    sizes = await table_sizes(review_db)
    assert refused(await reviews.delete(url, headers=headers()), status, code)
    assert [r.is_deleted for r in await review_rows(review_db, product)] == [0]
    assert (await table_sizes(review_db), await totals(review_db, product)) == (sizes, (1, 5, 0))
    assert (await reviews.delete(url, headers=as_member(AUTHOR))).status_code == 204
    assert [r.is_deleted for r in await review_rows(review_db, product)] == [1]
    assert refused(await reviews.delete(url, headers=headers()), status, code)  # deleted: still not theirs


async def test_ops_deletes_any_review(reviews: httpx.AsyncClient, review_db: Database, product: int) -> None:
    review = await write(reviews, product)
    assert (
        await reviews.delete(f"/api/product-reviews/{review['productReviewNo']}", headers=as_ops())
    ).status_code == 204
    assert [r.is_deleted for r in await review_rows(review_db, product)] == [1]
    assert await totals(review_db, product) == (0, 0, 1)


async def test_an_unknown_review_is_404_for_a_member_or_ops_and_a_seller_is_refused_before_the_lookup(
    reviews: httpx.AsyncClient,
) -> None:
    url = "/api/product-reviews/424242424243"
    assert refused(await reviews.delete(url), 401, "AUTH0001")
    assert refused(await reviews.delete(url, headers=as_member(AUTHOR)), 404, "REV0003")
    assert refused(await reviews.delete(url, headers=as_ops()), 404, "REV0003")
    assert refused(await reviews.delete(url, headers=as_seller(1)), 403, "AUTH0002")


async def test_the_review_reads_need_no_token(reviews: httpx.AsyncClient, product: int) -> None:
    review = await write(reviews, product)
    page = await reviews.get(f"/api/product-reviews/products/{product}")
    assert [r["productReviewNo"] for r in page.json()["productReviewList"]] == [review["productReviewNo"]]
    summary = await reviews.get(f"/api/product-reviews/products/{product}/summary")
    assert summary.json()["reviewCount"] == 1
