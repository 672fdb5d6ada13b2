"""내 주문: a buyer sees their paid orders and gives lines back with the page's 취소 buttons; the seller page then
shows the money going back. Every wait is for something the page or a service shows, with a deadline."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Browser, expect

from tests.browser.conftest import PSP_TIMING_OUT, Shop
from tests.browser.shop_flows import (
    emulator_stats,
    line_row,
    line_states,
    lines_at_order,
    log_in_as,
    order_section,
    page_as,
    pay_in_browser,
    read_seller_page,
    seller_books,
)
from tests.support import eventually, tokens

# Members of these tests alone (the other browser tests buy as member 1), so 내 주문 holds only their orders.
BUYER, STALE_BUYER, DOUBT_BUYER = 7301, 7302, 7303
SLOW_PSP = {"latencyMsMin": 800, "latencyMsMax": 800}


async def test_a_buyer_cancels_one_line_sees_the_partial_cancel_and_the_seller_page_shows_the_refund(
    browser: Browser, shop_services: Shop
) -> None:
    shop = shop_services
    async with page_as(browser, shop.url, tokens().member(BUYER)) as page:
        order_id = await pay_in_browser(page, shop, [1, 2, 3])
        await page.goto(f"{shop.url}/my/orders")
        order = order_section(page, order_id)
        await expect(order.locator(".order-state")).to_have_text("결제 완료")
        await expect(order.locator(".order-amount")).to_have_text("6,000원")
        await expect(order.locator(".refunded")).to_have_text("0원")
        assert await line_states(page, order_id) == {1: "결제 완료", 2: "결제 완료", 3: "결제 완료"}
        await expect(order.locator("button.cancel-line")).to_have_count(3)
        before = await emulator_stats(shop)

        await line_row(page, order_id, 2).locator("button.cancel-line").click()
        await expect(page.locator("#notice")).to_have_text("취소되었습니다. 2,000원을 환불했습니다.")
        await expect(page.locator("#notice")).to_have_attribute("data-kind", "done")
        landed = urlsplit(page.url)
        assert landed.path == "/my/orders"  # Post/Redirect/Get: a reload reads the page, it sends nothing again
        assert parse_qs(landed.query)["cancelNo"] == ["1"]
        order = order_section(page, order_id)
        await expect(order.locator(".order-state")).to_have_text("부분 취소")
        await expect(order.locator(".refunded")).to_have_text("2,000원")
        assert await line_states(page, order_id) == {1: "결제 완료", 2: "취소됨", 3: "결제 완료"}
        await expect(line_row(page, order_id, 2).locator("button")).to_have_count(0)
        await expect(order.locator("button.cancel-order")).to_have_text("남은 상품 모두 취소")
    assert await lines_at_order(shop, order_id) == {1: "SUCCESS", 2: "CANCELED", 3: "SUCCESS"}
    after = await emulator_stats(shop)
    assert (after["canceled"], after["canceledAmount"]) == (before["canceled"] + 1, before["canceledAmount"] + 2000)

    # The seller page (seller 1 sells products 1–3), logged in as seller 1: wallet got the DEBIT through the broker.
    async with page_as(browser, shop.url, tokens().seller(1)) as page:
        shown = await eventually(
            lambda: read_seller_page(page, shop.url),
            lambda seen: ("DEBIT", "환불", "-2,000원", order_id) in seen.transactions,
            timeout_s=30, interval_s=0.3,
        )  # fmt: skip
        ours = [row for row in shown.transactions if row[3] == order_id]
        assert ours[0] == ("DEBIT", "환불", "-2,000원", order_id)  # newest first
        assert sorted(ours[1:]) == sorted(
            ("CREDIT", "입금", amount, order_id) for amount in ("+1,000원", "+2,000원", "+3,000원")
        )
        assert shown.notices == []
        books = await seller_books(shop, 1)  # what order's own rows say the seller was paid and gave back
        await eventually(
            lambda: read_seller_page(page, shop.url),
            lambda seen: (seen.balance, seen.sales) == (books.balance, books.sales),
            timeout_s=30, interval_s=0.3,
        )  # fmt: skip


async def test_a_cancel_sent_again_gets_its_stored_result_and_a_stale_page_cancels_nothing_it_did_not_show(
    browser: Browser, shop_services: Shop, emulator_faults: httpx.AsyncClient
) -> None:
    """Two tabs of 내 주문 opened before a cancel: the second sends the same line's form again (the stored cancel
    comes back, the PSP is not asked twice); a third sends 주문 전체 취소 for lines one of which is cancelled by
    now (refused in Korean, nothing cancelled). A button clicked again while its form is on its way sends nothing."""
    shop = shop_services
    context = await browser.new_context()
    try:
        await log_in_as(context, shop.url, tokens().member(STALE_BUYER))
        payer = await context.new_page()
        order_id = await pay_in_browser(payer, shop, [1, 2])
        tabs = [await context.new_page() for _ in range(3)]
        for tab in tabs:
            await tab.goto(f"{shop.url}/my/orders")
            await expect(order_section(tab, order_id).locator(".order-state")).to_have_text("결제 완료")
        first, again, whole = tabs
        line_one = await line_row(first, order_id, 1).get_attribute("data-payment-order-no")
        before = await emulator_stats(shop)

        await line_row(first, order_id, 1).locator("button.cancel-line").click()
        await expect(first.locator("#notice")).to_have_text("취소되었습니다. 1,000원을 환불했습니다.")
        await line_row(again, order_id, 1).locator("button.cancel-line").click()  # the same form, sent again
        await expect(again.locator("#notice")).to_have_text("취소되었습니다. 1,000원을 환불했습니다.")
        assert parse_qs(urlsplit(again.url).query)["cancelNo"] == ["1"]  # the stored cancel, not a second one
        await expect(order_section(again, order_id).locator(".order-state")).to_have_text("부분 취소")

        await order_section(whole, order_id).locator("button.cancel-order").click()
        await expect(whole.locator("#notice")).to_have_text(
            f"이미 취소된 항목이 함께 있습니다: {line_one}. 취소되지 않은 항목만 보내 주세요."
        )
        await expect(whole.locator("#notice")).to_have_attribute("data-kind", "error")
        assert await line_states(whole, order_id) == {1: "취소됨", 2: "결제 완료"}
        assert await lines_at_order(shop, order_id) == {1: "CANCELED", 2: "SUCCESS"}
        mid = await emulator_stats(shop)
        assert (mid["canceled"], mid["canceledAmount"]) == (before["canceled"] + 1, before["canceledAmount"] + 1000)

        # The PSP answers slowly now, so a second click lands while the first submission is on its way.
        assert (await emulator_faults.put("/emulator/faults", json=SLOW_PSP)).status_code == 200
        posts: list[str] = []
        whole.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
        button = line_row(whole, order_id, 2).locator("button.cancel-line")
        # Clicked, and clicked again 0.3 s later while the first submission waits for its answer (Playwright's own
        # actions wait for that navigation, so the second click comes from the page's clock).
        await button.evaluate("b => { b.click(); setTimeout(() => b.click(), 300); }")
        order = order_section(whole, order_id)
        await expect(order.locator(".order-state")).to_have_text("전액 취소", timeout=20_000)
        assert posts == [f"{shop.url}/my/orders/cancel"]  # the page sent its form once
        await expect(whole.locator("#notice")).to_have_text("취소되었습니다. 2,000원을 환불했습니다.")
        await expect(order.locator(".refunded")).to_have_text("3,000원")
        await expect(order.locator("button")).to_have_count(0)
    finally:
        await context.close()
    after = await emulator_stats(shop)
    assert (after["canceled"], after["canceledAmount"]) == (before["canceled"] + 2, before["canceledAmount"] + 3000)
    assert await lines_at_order(shop, order_id) == {1: "CANCELED", 2: "CANCELED"}


async def test_a_cancel_in_doubt_shows_checking_and_the_page_turns_to_canceled_on_its_own(
    browser: Browser, shop_services: Shop, emulator_faults: httpx.AsyncClient
) -> None:
    """The PSP times out on the cancel: the page says 취소 확인 중 (the money may or may not be back yet) and offers
    no other cancel of the order. Once the PSP answers again, order's recovery sends the same cancel again, and
    the page the buyer is looking at — reloading itself while a cancel is in doubt — shows it done."""
    shop = shop_services
    async with page_as(browser, shop.url, tokens().member(DOUBT_BUYER)) as page:
        order_id = await pay_in_browser(page, shop, [3])
        await page.goto(f"{shop.url}/my/orders")
        before = await emulator_stats(shop)
        assert (await emulator_faults.put("/emulator/faults", json=PSP_TIMING_OUT)).status_code == 200
        await line_row(page, order_id, 3).locator("button.cancel-line").click()
        await expect(page.locator("#notice")).to_have_attribute("data-kind", "pending", timeout=20_000)
        await expect(page.locator("#notice")).to_contain_text("취소 확인 중")
        order = order_section(page, order_id)
        # Read the page again and again until order's recovery has sent the cancel once more (3 more timeouts at
        # the PSP): between its attempts (UNKNOWN) and during one (EXECUTING), every read says 취소 확인 중.
        seen: set[tuple[str, str, int]] = set()
        timed_out = (await emulator_stats(shop))["faultTimeouts"]

        async def read_again() -> int:
            await page.reload()
            state, buttons = await order.locator(".order-state").inner_text(), await order.locator("button").count()
            seen.add((state, (await line_states(page, order_id))[3], buttons))
            return int((await emulator_stats(shop))["faultTimeouts"])

        await eventually(read_again, lambda count: count >= timed_out + 3, timeout_s=20, interval_s=0.05)
        assert seen == {("취소 확인 중", "취소 확인 중", 0)}  # no other cancel offered meanwhile
        during = await emulator_stats(shop)
        assert during["canceled"] == before["canceled"]
        assert await lines_at_order(shop, order_id) == {3: "SUCCESS"}  # nothing given back on no word

        assert (await emulator_faults.put("/emulator/faults", json={"faultTimeoutRate": 0.0})).status_code == 200
        await expect(order.locator(".order-state")).to_have_text("전액 취소", timeout=30_000)
        await expect(page.locator("#notice")).to_have_text("취소되었습니다. 3,000원을 환불했습니다.")
        await expect(order.locator(".refunded")).to_have_text("3,000원")
    after = await emulator_stats(shop)
    assert (after["canceled"], after["canceledAmount"]) == (before["canceled"] + 1, before["canceledAmount"] + 3000)
    assert await lines_at_order(shop, order_id) == {3: "CANCELED"}
