"""The pages' login through its form, against the identity service and its seed accounts (member1, seller1;
password ``<login id>-password``): who may see which page, the session and CSRF cookies, and forms from elsewhere
refused with nothing done."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Browser, Route, expect

from kiwishop.order.page_session import CSRF_COOKIE, SESSION_COOKIE
from kiwishop.order.pages import NOT_FROM_HERE
from tests.browser.conftest import Shop
from tests.browser.shop_flows import (
    APPROVING_CARD,
    cookie_of,
    csrf_of,
    emulator_stats,
    line_row,
    lines_at_order,
    log_in_with_form,
    order_section,
    page_as,
    pay_in_browser,
    press_pay,
    read_seller_page,
)
from tests.browser.test_seller_page import both, wallet_balance
from tests.support import eventually, tokens

EVIL = "http://evil.example"
CROSS_SITE_BUYER = 7321  # this test's own member: 내 주문 holds only its orders


async def test_a_member_logs_in_through_the_form_pays_sees_the_order_and_logs_out(
    browser: Browser, shop_services: Shop
) -> None:
    """The acceptance by hand: 결제하기 without a login asks for it, the login comes back to the same choice,
    the order is paid and shown in 내 주문; after 로그아웃 내 주문 asks for the login again."""
    shop = shop_services.url
    async with page_as(browser, shop, None) as page:
        await page.goto(f"{shop}/?productNoList=2")
        await expect(page.locator("#login-link")).to_have_text("로그인")
        await page.click("#payment-button")  # not logged in: to the login, no order
        await expect(page).to_have_url(f"{shop}/login?next=/%3FproductNoList%3D2")
        await log_in_with_form(page, "member1", "member1-password")
        await expect(page).to_have_url(f"{shop}/?productNoList=2")  # back to the same choice
        await expect(page.locator("#logged-in-as")).to_have_text("회원 1")
        session = await cookie_of(page.context, SESSION_COOKIE)
        assert session is not None
        assert (session["httpOnly"], session["sameSite"], session["path"]) == (True, "Lax", "/")
        assert session["expires"] > 0  # Max-Age: the token's lifetime, not the browser's session
        csrf = await cookie_of(page.context, CSRF_COOKIE)
        assert csrf is not None
        assert (csrf["httpOnly"], csrf["sameSite"]) == (True, "Strict")

        await expect(page.locator("#amount")).to_have_text("2,000원")
        order_id = await press_pay(page, 2000)
        await page.fill("#card-number", APPROVING_CARD)
        await page.click("#pay-button")
        await expect(page.locator("#result-title")).to_have_text("결제 성공", timeout=20_000)
        await expect(page.locator("#order-id")).to_have_text(order_id)
        await expect(page.locator("#logged-in-as")).to_have_text("회원 1")

        await page.click("#session a[href='/my/orders']")
        await expect(page).to_have_url(f"{shop}/my/orders")
        await expect(order_section(page, order_id).locator(".order-state")).to_have_text("결제 완료")
        await expect(page.locator("#member-no")).to_have_text("1")

        await page.click("#logout-button")
        await expect(page).to_have_url(f"{shop}/")
        await expect(page.locator("#login-link")).to_have_text("로그인")
        assert await cookie_of(page.context, SESSION_COOKIE) is None
        response = await page.goto(f"{shop}/my/orders")
        assert response is not None
        assert response.status == 200  # the login page, after a 303
        await expect(page).to_have_url(f"{shop}/login?next=/my/orders")
        await expect(page.locator("#login-form")).to_be_visible()
    assert await lines_at_order(shop_services, order_id) == {2: "SUCCESS"}


async def test_a_wrong_password_is_the_form_again_with_a_401_and_no_session(
    browser: Browser, shop_services: Shop
) -> None:
    shop = shop_services.url
    async with page_as(browser, shop, None) as page:
        await page.goto(f"{shop}/login?next=/my/orders")
        async with page.expect_response(lambda r: r.request.method == "POST") as answered:
            await log_in_with_form(page, "member1", "not-the-password")
        assert (await answered.value).status == 401
        await expect(page.locator("#login-error")).to_have_text("아이디 또는 비밀번호가 올바르지 않습니다.")
        await expect(page.locator("#login-id")).to_have_value("member1")
        await expect(page.locator("input[name=next]")).to_have_value("/my/orders")
        assert await cookie_of(page.context, SESSION_COOKIE) is None
        response = await page.goto(f"{shop}/my/orders")
        assert response is not None
        await expect(page).to_have_url(f"{shop}/login?next=/my/orders")  # still not logged in


async def test_a_next_that_leaves_the_site_is_not_followed(browser: Browser, shop_services: Shop) -> None:
    shop = shop_services.url
    async with page_as(browser, shop, None) as page:
        for away in ("//evil.example", "/\\evil.example", "https://evil.example/", "/%09/evil.example"):
            await page.goto(f"{shop}/login?next={away}")
            await log_in_with_form(page, "member1", "member1-password")
            await expect(page).to_have_url(f"{shop}/")
            await expect(page.locator("#logged-in-as")).to_have_text("회원 1")


async def test_seller1_logs_in_and_sees_the_wallet_and_each_role_is_refused_the_others_page(
    browser: Browser, shop_services: Shop
) -> None:
    shop = shop_services
    async with page_as(browser, shop.url, None) as page:
        await page.goto(f"{shop.url}/seller")
        await expect(page).to_have_url(f"{shop.url}/login?next=/seller")
        await log_in_with_form(page, "seller1", "seller1-password")
        await expect(page).to_have_url(f"{shop.url}/seller")
        await expect(page.locator("#logged-in-as")).to_have_text("판매자 1")
        # The wallet read with the seller's own token: the balance wallet answers seller 1 (the two reads race
        # the settlement of other tests' payments, so until they agree).
        shown, balance = await eventually(
            lambda: both(read_seller_page(page, shop.url), wallet_balance(shop, 1)),
            lambda seen: seen[0].balance == seen[1], timeout_s=15,
        )  # fmt: skip
        assert shown.notices == []
        await expect(page.locator("#balance")).to_have_text(balance)

        response = await page.goto(f"{shop.url}/my/orders")
        assert response is not None
        assert response.status == 403
        await expect(page.locator("#error-message")).to_contain_text("회원 계정으로")

    async with page_as(browser, shop.url, tokens().member(1)) as page:
        response = await page.goto(f"{shop.url}/seller")
        assert response is not None
        assert response.status == 403
        await expect(page.locator("#error-message")).to_contain_text("판매자 계정으로")
        await expect(page.locator("#logged-in-as")).to_have_text("회원 1")
        await expect(page.locator("#balance")).to_have_count(0)


async def test_a_cancel_posted_from_another_site_or_without_the_csrf_value_is_refused_and_cancels_nothing(
    browser: Browser, shop_services: Shop
) -> None:
    shop = shop_services
    async with page_as(browser, shop.url, tokens().member(CROSS_SITE_BUYER)) as page:
        order_id = await pay_in_browser(page, shop, [1])
        await page.goto(f"{shop.url}/my/orders")
        line_no = await line_row(page, order_id, 1).get_attribute("data-payment-order-no")
        before = await emulator_stats(shop)

        # A page of another site posts the cancel form (as it may: it cannot read our CSRF cookie, so the form has
        # no csrf value; the browser sends neither the Lax session nor the Strict CSRF cookie along).
        evil_form = (
            f'<form id="f" method="post" action="{shop.url}/my/orders/cancel">'
            f'<input name="orderId" value="{order_id}"><input name="paymentOrderNo" value="{line_no}"></form>'
            '<script>document.getElementById("f").submit()</script>'
        )

        async def evil_site(route: Route) -> None:
            await route.fulfill(status=200, content_type="text/html", body=evil_form)

        await page.route(f"{EVIL}/**", evil_site)
        async with page.expect_response(lambda r: r.url == f"{shop.url}/my/orders/cancel") as answered:
            await page.goto(f"{EVIL}/")
        assert (await answered.value).status == 403
        await expect(page.locator("#error-message")).to_have_text(NOT_FROM_HERE)

        # The same form with the session cookie along but without the csrf value, and with the right value but
        # from another origin: refused as well.
        form: dict[str, str | float | bool] = {"orderId": order_id, "paymentOrderNo": str(line_no)}
        no_token = await page.context.request.post(f"{shop.url}/my/orders/cancel", form=form, max_redirects=0)
        assert no_token.status == 403
        csrf = await csrf_of(page.context)
        elsewhere = await page.context.request.post(
            f"{shop.url}/my/orders/cancel", form={**form, "csrf": csrf}, headers={"Origin": EVIL}, max_redirects=0
        )
        assert elsewhere.status == 403
        assert await lines_at_order(shop, order_id) == {1: "SUCCESS"}  # nothing cancelled
        after = await emulator_stats(shop)
        assert after["canceled"] == before["canceled"]  # the PSP was never asked

        # Our own page's button, with its csrf value, still cancels (the refusals were the guard's, not a fault).
        await page.goto(f"{shop.url}/my/orders")
        await line_row(page, order_id, 1).locator("button.cancel-line").click()
        await expect(page.locator("#notice")).to_have_text("취소되었습니다. 1,000원을 환불했습니다.")
        assert parse_qs(urlsplit(page.url).query)["orderId"] == [order_id]
    assert await lines_at_order(shop, order_id) == {1: "CANCELED"}
