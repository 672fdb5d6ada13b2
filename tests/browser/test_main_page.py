"""The shop's main page lists the hot products in rank order, and the buyer pays for what they choose."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from tests.browser.conftest import Shop
from tests.browser.shop_flows import page_as, press_pay
from tests.support import as_member, eventually, tokens


async def hot_ids(shop: Shop) -> list[int]:
    async with httpx.AsyncClient(base_url=shop.hot_url) as client:
        return [p["productNo"] for p in (await client.get("/api/hot-products")).json()["productList"]]


async def test_the_main_page_lists_hot_products_in_rank_order_and_sells_the_chosen_one(
    browser: Browser, shop_services: Shop
) -> None:
    async with httpx.AsyncClient(base_url=shop_services.like_url) as likes:
        for member in range(1, 6):  # product 3: 5 likes → score 10
            liked = await likes.post(f"/api/catalog-likes/products/3/members/{member}", headers=as_member(member))
            assert liked.status_code == 204
        liked = await likes.post("/api/catalog-likes/products/1/members/1", headers=as_member(1))
        assert liked.status_code == 204  # product 1: 2
    async with httpx.AsyncClient(base_url=shop_services.review_url) as reviews:
        review = {"productNo": 2, "memberNo": 1, "title": "좋아요", "content": "아주 좋아요", "starRatingType": "FIVE"}
        reviewed = await reviews.post("/api/product-reviews", json=review, headers=as_member(1))
        assert reviewed.status_code == 201  # product 2: 3 + 25
    await eventually(lambda: hot_ids(shop_services), lambda ids: ids == [2, 3, 1], timeout_s=30)

    async with page_as(browser, shop_services.url, tokens().member(1)) as page:
        await page.goto(f"{shop_services.url}/")
        await expect(page.locator("#showcase h1").first).to_have_text("인기 상품")
        listed = await page.locator("#product-list li.product").evaluate_all(
            "items => items.map(i => Number(i.dataset.productNo))"
        )
        assert listed == [2, 3, 1]
        await expect(page.locator("#product-list li.product").first).to_contain_text("상품B")
        for checkbox in await page.locator("#product-list input[type=checkbox]").all():
            await checkbox.set_checked(False)
        await page.locator('#product-list input[value="2"]').check()
        await page.click("#choose-button")
        await expect(page.locator("#amount")).to_have_text("2,000원")
        order_id = await press_pay(page, 2000)
        await page.click("#pay-button")
        await expect(page.locator("#result-title")).to_have_text("결제 성공", timeout=20_000)
        await expect(page.locator("#amount")).to_have_text("2,000원")
        await expect(page.locator("#order-id")).to_have_text(order_id)
