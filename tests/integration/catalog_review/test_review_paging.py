"""Reviews page by the shop's one paging rule: limit 1..100 (anything else a 400, never clamped), and
nextCursor on every page; validation details in the client's language."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.catalog_review.reviews import body
from tests.support import as_member


@pytest.mark.parametrize("limit", ["101", "0", "-1", "abc", "1000"])
async def test_a_limit_outside_1_to_100_is_a_400_not_a_silently_smaller_page(
    reviews: httpx.AsyncClient, product: int, limit: str
) -> None:
    response = await reviews.get(f"/api/product-reviews/products/{product}", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    assert response.json()["details"][0]["field"] == "query.limit"


async def test_limits_1_and_100_and_the_default_answer_a_page_with_next_cursor(
    reviews: httpx.AsyncClient, product: int
) -> None:
    me = as_member(1)
    made = [
        (await reviews.post("/api/product-reviews", json=body(product, title=f"t{i}"), headers=me)).json()
        for i in range(3)
    ]
    newest_first = [str(r["productReviewNo"]) for r in reversed(made)]
    one = (await reviews.get(f"/api/product-reviews/products/{product}", params={"limit": "1"})).json()
    assert [str(r["productReviewNo"]) for r in one["productReviewList"]] == newest_first[:1]
    assert one["nextCursor"] == newest_first[0]
    for params in ({"limit": "100"}, {}):
        page = (await reviews.get(f"/api/product-reviews/products/{product}", params=params)).json()
        assert [str(r["productReviewNo"]) for r in page["productReviewList"]] == newest_first
        assert page["nextCursor"] is None
    exactly = (await reviews.get(f"/api/product-reviews/products/{product}", params={"limit": "3"})).json()
    assert exactly["nextCursor"] is None  # a full last page says so: no empty page after it


async def test_validation_details_are_korean_by_default_and_english_with_en(
    reviews: httpx.AsyncClient, product: int
) -> None:
    bad = body(product, stars="SIX", memberNo=True)
    korean = (await reviews.post("/api/product-reviews", json=bad, headers=as_member(1))).json()
    english = (
        await reviews.post("/api/product-reviews", json=bad, headers={"Accept-Language": "en", **as_member(1)})
    ).json()
    assert {d["field"]: d["message"] for d in korean["details"]} == {
        "memberNo": "숫자여야 합니다.",
        "starRatingType": "다음 중 하나여야 합니다: 'ONE', 'TWO', 'THREE', 'FOUR' or 'FIVE'",
    }
    assert {d["field"]: d["message"] for d in english["details"]} == {
        "memberNo": "must be a number",
        "starRatingType": "Input should be 'ONE', 'TWO', 'THREE', 'FOUR' or 'FIVE'",
    }
