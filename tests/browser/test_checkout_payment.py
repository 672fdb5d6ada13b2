"""A buyer pays in a real (headless) browser: checkout page → emulator window → result page, logged in as member 1
(the session cookie; the login form itself is in test_login.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.browser.conftest import PSP_TIMING_OUT, Shop
from tests.browser.shop_flows import emulator_stats, page_as, press_pay
from tests.support import as_ops, tokens

BUYER = 1


async def payment_of(shop: Shop, order_id: str) -> dict[str, Any]:
    """What order knows about the payment: GET /api/payments/{orderId}."""
    async with httpx.AsyncClient(base_url=shop.url, headers=as_ops()) as order:
        response = await order.get(f"/api/payments/{order_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


async def test_paying_with_the_approving_card_shows_success_with_the_amount(browser: Browser, shop: str) -> None:
    async with page_as(browser, shop, tokens().member(BUYER)) as page:
        await page.goto(f"{shop}/")
        await expect(page.locator("#amount")).to_have_text("6,000원")
        order_id = await press_pay(page, 6000)
        await page.fill("#card-number", "4111-1111-1111-1111")
        await page.click("#pay-button")
        await expect(page.locator("#result-title")).to_have_text("결제 성공", timeout=20_000)
        await expect(page.locator("#amount")).to_have_text("6,000원")
        await expect(page.locator("#order-id")).to_have_text(order_id)
        assert page.url.startswith(f"{shop}/success?paymentType=NORMAL&orderId={order_id}&")
        await expect(page.locator("#logged-in-as")).to_have_text(f"회원 {BUYER}")


async def test_a_declining_card_shows_the_decline_and_leaves_the_order_unpaid_and_payable(
    browser: Browser, shop_services: Shop
) -> None:
    """The window declines before the shop is asked to confirm: the shop never calls the PSP's confirm, nothing
    is charged, and the order stays NOT_STARTED (payable with another card), not FAILURE."""
    shop = shop_services.url
    async with page_as(browser, shop, tokens().member(BUYER)) as page:
        await page.goto(f"{shop}/?productNoList=2")
        await expect(page.locator("#amount")).to_have_text("2,000원")
        before = await emulator_stats(shop_services)
        order_id = await press_pay(page, 2000)
        await page.fill("#card-number", "4000-0000-0000-0002")
        await page.click("#pay-button")
        await expect(page.locator("#result-title")).to_have_text("결제 실패", timeout=20_000)
        await expect(page.locator("#error-code")).to_have_text("REJECT_CARD_COMPANY")
        await expect(page.locator("#error-message")).to_have_text("결제 승인이 거절되었습니다.")
        assert page.url.startswith(f"{shop}/fail?code=REJECT_CARD_COMPANY")
    after = await emulator_stats(shop_services)
    assert after["declined"] == before["declined"] + 1  # the PSP did see the card, and declined it
    counted = ("authorized", "approved", "approvedAmount", "confirmRequests")
    assert {name: after[name] for name in counted} == {name: before[name] for name in counted}
    assert await payment_of(shop_services, order_id) == {
        "orderId": order_id, "status": "NOT_STARTED", "paymentKey": None, "approvedAt": None, "amount": 2000,
        "failure": None,
    }  # fmt: skip


async def test_cancelling_the_window_lands_on_the_failure_page(browser: Browser, shop: str) -> None:
    async with page_as(browser, shop, tokens().member(BUYER)) as page:
        await page.goto(f"{shop}/?productNoList=1")
        await press_pay(page, 1000)
        await page.wait_for_selector("#cancel-button")
        await page.click("#cancel-button")
        await expect(page.locator("#error-code")).to_have_text("PAY_PROCESS_CANCELED", timeout=20_000)


async def test_the_result_page_shows_checking_while_the_psp_times_out_and_turns_to_success_on_its_own(
    browser: Browser, shop_services: Shop, emulator_faults: httpx.AsyncClient
) -> None:
    """The buyer authorised in the window, but the PSP times out on every confirm and lookup: the result page
    says 결제 확인 중 (the order is in doubt, not failed). Once the PSP answers again, order's recovery approves
    the payment, and the page the buyer is looking at — polling its order's status (GET /success/status, as the
    logged-in buyer) — shows 결제 성공
    without anyone reloading it."""
    shop = shop_services.url
    async with page_as(browser, shop, tokens().member(BUYER)) as page:
        await page.goto(f"{shop}/?productNoList=3")
        await expect(page.locator("#amount")).to_have_text("3,000원")
        order_id = await press_pay(page, 3000)
        await page.fill("#card-number", "4111-1111-1111-1111")
        before = await emulator_stats(shop_services)
        assert (await emulator_faults.put("/emulator/faults", json=PSP_TIMING_OUT)).status_code == 200
        await page.click("#pay-button")
        await expect(page.locator("#result-title")).to_have_text("결제 확인 중", timeout=30_000)
        await expect(page.locator("#order-id")).to_have_text(order_id)
        await expect(page.locator("#amount")).to_have_text("3,000원")
        pending_url = page.url
        assert pending_url.startswith(f"{shop}/success?paymentType=NORMAL&orderId={order_id}&paymentKey=")
        in_doubt = await payment_of(shop_services, order_id)
        assert (in_doubt["status"], in_doubt["paymentKey"], in_doubt["failure"]) in {
            ("UNKNOWN", None, None), ("EXECUTING", None, None)  # EXECUTING: recovery is asking again right now
        }  # fmt: skip
        during = await emulator_stats(shop_services)
        assert during["faultTimeouts"] > before["faultTimeouts"]  # the PSP did time out on the shop
        assert (during["approved"], during["approvedAmount"]) == (before["approved"], before["approvedAmount"])

        assert (await emulator_faults.put("/emulator/faults", json={"faultTimeoutRate": 0.0})).status_code == 200
        await expect(page.locator("#result-title")).to_have_text("결제 성공", timeout=30_000)
        await expect(page.locator("#amount")).to_have_text("3,000원")
        assert page.url == pending_url  # the same result page, turned by its own polling
    paid = await payment_of(shop_services, order_id)
    assert (paid["status"], paid["failure"]) == ("SUCCESS", None)
    assert [paid["paymentKey"]] == parse_qs(urlsplit(pending_url).query)["paymentKey"]  # the buyer's key, bound
    after = await emulator_stats(shop_services)
    assert (after["approved"], after["approvedAmount"]) == (before["approved"] + 1, before["approvedAmount"] + 3000)


async def _orders_in_the_database(shop: Shop) -> dict[str, int]:
    """orderId → buyer (memberNo) of every order order holds."""
    db = Database.connect(shop.infra, shop.order_db, pool_size=1, max_overflow=0)
    try:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT order_id, member_no FROM payment_events"))).all()
            return {str(r.order_id): int(r.member_no) for r in rows}
    finally:
        await db.close()


async def test_viewing_and_reloading_the_checkout_page_creates_no_order_and_paying_creates_one(
    browser: Browser, shop_services: Shop
) -> None:
    """Crawlers and reloads fill nothing, logged in or not: the page only shows the products and the total;
    결제하기 creates the order (one per press) for the member logged in — a memberNo in the URL decides nothing —
    and opens the window with it."""
    shop = shop_services.url
    before = await _orders_in_the_database(shop_services)
    for token in (None, tokens().member(BUYER)):
        async with page_as(browser, shop, token) as page:
            for query in ("", "?productNoList=2", "?productNoList=1&productNoList=3&memberNo=5"):
                await page.goto(f"{shop}/{query}")
                for _ in range(3):
                    await page.reload()
                    await expect(page.locator("#payment-button")).to_be_enabled()
            await expect(page.locator("#amount")).to_have_text("4,000원")
            await expect(page.locator("#order-id")).to_have_text("결제하기를 누르면 정해집니다")
            assert await _orders_in_the_database(shop_services) == before  # 24 page views, no order
            if token is not None:
                order_id = await press_pay(page, 4000)
    assert await _orders_in_the_database(shop_services) == {**before, order_id: BUYER}  # one order, member 1's
    assert (await payment_of(shop_services, order_id))["status"] == "NOT_STARTED"
