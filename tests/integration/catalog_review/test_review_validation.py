"""Review input validation against the real service (catalog.md acceptance test 12, C8): every bad input
is a 400 with the error body and writes nothing (no review, no totals row, no outbox row)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiwishop.platform.db import Database
from tests.integration.catalog_review.reviews import body, table_sizes
from tests.support import as_member

BAD_BODIES: dict[str, Any] = {
    "unknown star type": {"starRatingType": "SIX"},
    "lower-case star type": {"starRatingType": "five"},
    "star type as enum index": {"starRatingType": 4},
    "null star type": {"starRatingType": None},
    "missing star type": {"starRatingType": ...},
    "missing title": {"title": ...},
    "null title": {"title": None},
    "blank title": {"title": "   "},
    "title of 101 characters": {"title": "가" * 101},
    "missing content": {"content": ...},
    "blank content": {"content": ""},
    "content of 3001 characters": {"content": "x" * 3001},
    "missing productNo": {"productNo": ...},
    "missing memberNo": {"memberNo": ...},
    "productNo 0": {"productNo": 0},
    "negative memberNo": {"memberNo": -1},
    "boolean memberNo": {"memberNo": True},
    "productNo beyond 64 bits": {"productNo": 2**63},
    "title as a number": {"title": 5},
}


@pytest.mark.parametrize("case", BAD_BODIES)
async def test_each_bad_review_is_a_400_with_the_error_body_and_writes_nothing(
    reviews: httpx.AsyncClient, review_db: Database, product: int, case: str
) -> None:
    sent = {k: v for k, v in (body(product) | BAD_BODIES[case]).items() if v is not ...}
    before = await table_sizes(review_db)
    response = await reviews.post("/api/product-reviews", json=sent, headers=as_member(1))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "INVALID_REQUEST"
    assert response.json()["details"]
    assert await table_sizes(review_db) == before


async def test_malformed_json_and_a_non_json_body_are_4xx_and_write_nothing(
    reviews: httpx.AsyncClient, review_db: Database
) -> None:
    before = await table_sizes(review_db)
    malformed = await reviews.post(
        "/api/product-reviews",
        content=b'{"productNo": 1,',
        headers={"Content-Type": "application/json", **as_member(1)},
    )
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "MALFORMED_JSON"
    form = await reviews.post(
        "/api/product-reviews", content=b"productNo=1", headers={"Content-Type": "text/plain", **as_member(1)}
    )
    assert 400 <= form.status_code < 500
    assert await table_sizes(review_db) == before


async def test_a_numeric_string_product_number_is_accepted_as_in_the_original(
    reviews: httpx.AsyncClient, product: int
) -> None:
    response = await reviews.post(
        "/api/product-reviews", json=body(product, memberNo="23423958235"), headers=as_member(23423958235)
    )
    assert response.status_code == 201
    assert response.json()["memberNo"] == 23423958235
