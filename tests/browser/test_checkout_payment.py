"""A buyer pays in a real (headless) browser: checkout page → emulator window → result page."""

from __future__ import annotations

from playwright.async_api import Browser, expect


async def test_paying_with_the_approving_card_shows_success_with_the_amount(browser: Browser, shop: str) -> None:
    page = await browser.new_page()
    try:
        await page.goto(f"{shop}/")
        await expect(page.locator("#amount")).to_have_text("6,000원")
        await page.click("#payment-button")
        await page.wait_for_selector("#card-number")
        await page.fill("#card-number", "4111-1111-1111-1111")
        await page.click("#pay-button")
        await expect(page.locator("#result-title")).to_have_text("결제 성공", timeout=20_000)
        await expect(page.locator("#amount")).to_have_text("6,000원")
        assert page.url.startswith(f"{shop}/success?paymentType=NORMAL&orderId=")
    finally:
        await page.close()


async def test_a_declining_card_lands_on_the_failure_page_with_the_decline_code(browser: Browser, shop: str) -> None:
    page = await browser.new_page()
    try:
        await page.goto(f"{shop}/?productNoList=2")
        await expect(page.locator("#amount")).to_have_text("2,000원")
        await page.click("#payment-button")
        await page.wait_for_selector("#card-number")
        await page.fill("#card-number", "4000-0000-0000-0002")
        await page.click("#pay-button")
        await expect(page.locator("#result-title")).to_have_text("결제 실패", timeout=20_000)
        await expect(page.locator("#error-code")).to_have_text("REJECT_CARD_COMPANY")
        assert page.url.startswith(f"{shop}/fail?code=REJECT_CARD_COMPANY")
    finally:
        await page.close()


async def test_cancelling_the_window_lands_on_the_failure_page(browser: Browser, shop: str) -> None:
    page = await browser.new_page()
    try:
        await page.goto(f"{shop}/?productNoList=1")
        await page.click("#payment-button")
        await page.wait_for_selector("#cancel-button")
        await page.click("#cancel-button")
        await expect(page.locator("#error-code")).to_have_text("PAY_PROCESS_CANCELED", timeout=20_000)
    finally:
        await page.close()
