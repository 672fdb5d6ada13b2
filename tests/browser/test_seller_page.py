"""The seller page when its sources are missing: a peer that is down costs only its part of the page (with a Korean
notice), never the page; a seller without a wallet is told so. The seller is the one logged in (the session
cookie of a minted seller token; the seed account's login through the form is in test_login.py). (What it shows
when everything is up — the balance, the CREDIT and DEBIT rows, the sales — is in test_my_orders.py, after a
cancel.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TypeVar

import httpx
from playwright.async_api import Browser, expect

from kiwishop.order.app import create_app as create_order
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.order.pages_seller import NO_WALLET, SALES_DOWN, WALLET_DOWN
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.browser.conftest import Shop
from tests.browser.shop_flows import page_as, read_seller_page, won
from tests.support import as_seller, dead_url, eventually, served_app, tokens, unique

A = TypeVar("A")
B = TypeVar("B")


@asynccontextmanager
async def order_reading(infra: InfraSettings, *, wallet_url: str, order_query_url: str) -> AsyncIterator[str]:
    """Another order process, whose seller page reads these peers. A schema and topics of its own (on the test
    runner's broker): its workers and relay never touch the browser shop's orders."""
    tag = unique("br-seller").replace("-", "_")
    await migrate(infra, tag, ORDER_MIGRATIONS)
    settings = OrderSettings(
        infra=infra, db_name=tag, node_id=148, catalog_url=dead_url(), hot_catalog_url=dead_url(),
        toss_api_url=dead_url(), wallet_url=wallet_url, order_query_url=order_query_url,
        payment_topic=f"{tag}-payment", wallet_topic=f"{tag}-wallet", wallet_group_id=f"{tag}-wallet-result",
    )  # fmt: skip
    async with served_app(create_order(settings)) as url:
        yield url


async def order_query_sales(shop: Shop, seller_no: int) -> dict[int, tuple[str, str, str, str]]:
    """order-query's answer, as the page writes it."""
    async with httpx.AsyncClient(base_url=shop.order_query_url, headers=as_seller(seller_no)) as order_query:
        response = await order_query.get(f"/api/orders/sellers/{seller_no}")
        assert response.status_code == 200, response.text
        rows = response.json()["orderTotalAmountGroupingProductList"]
    return {
        p["productNo"]: (
            p["productName"], f"{p['paidCount']}건 · {won(Decimal(str(p['paidAmount'])))}",
            f"{p['canceledCount']}건 · {won(Decimal(str(p['canceledAmount'])))}", won(Decimal(str(p["amount"]))),
        )
        for p in rows
    }  # fmt: skip


async def wallet_balance(shop: Shop, seller_no: int) -> str:
    async with httpx.AsyncClient(base_url=shop.wallet_url, headers=as_seller(seller_no)) as wallet:
        response = await wallet.get(f"/api/wallets/sellers/{seller_no}")
        assert response.status_code == 200, response.text
        return won(Decimal(str(response.json()["balance"])))


async def both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    return await first, await second


async def test_with_wallet_down_the_page_shows_the_sales_and_with_order_query_down_the_wallet(
    browser: Browser, shop_services: Shop, infra: InfraSettings
) -> None:
    shop = shop_services
    async with page_as(browser, shop.url, tokens().seller(1)) as page:  # the cookie goes to every port of the host
        async with order_reading(infra, wallet_url=dead_url(), order_query_url=shop.order_query_url) as url:
            shown, _ = await eventually(  # the same sales as order-query's, read at (about) the same time
                lambda: both(read_seller_page(page, url), order_query_sales(shop, 1)),  # a 200, or it fails
                lambda seen: seen[0].sales == seen[1], timeout_s=15,
            )  # fmt: skip
            assert shown.notices == [WALLET_DOWN]
            assert (shown.balance, shown.transactions) == (None, [])
            await expect(page.locator("#transactions")).to_have_count(0)

        async with order_reading(infra, wallet_url=shop.wallet_url, order_query_url=dead_url()) as url:
            shown, _ = await eventually(
                lambda: both(read_seller_page(page, url), wallet_balance(shop, 1)),
                lambda seen: seen[0].balance == seen[1], timeout_s=15,
            )  # fmt: skip
            assert shown.notices == [SALES_DOWN]
            assert shown.sales is None
            await expect(page.locator("#transactions")).to_have_count(1)

        async with order_reading(infra, wallet_url=dead_url(), order_query_url=dead_url()) as url:
            shown = await read_seller_page(page, url)
            assert shown.notices == [WALLET_DOWN, SALES_DOWN]
            assert (shown.balance, shown.transactions, shown.sales) == (None, [], None)


async def test_a_seller_without_a_wallet_is_told_so_whatever_seller_the_url_names_and_a_bad_cursor_is_a_400(
    browser: Browser, shop_services: Shop
) -> None:
    """Seller 987654 (logged in) has no wallet: told so — also when an old link names seller 1, whose page it is
    not (the page is the logged-in seller's, never the URL's)."""
    async with page_as(browser, shop_services.url, tokens().seller(987654)) as page:
        shown = await read_seller_page(page, shop_services.url)
        assert shown.notices == [NO_WALLET]
        assert (shown.balance, shown.transactions, shown.sales) == (None, [], {})
        await expect(page.locator("#no-sales")).to_have_text("판매 내역이 없습니다.")
        await expect(page.locator("#seller-no")).to_have_text("987654")

        response = await page.goto(f"{shop_services.url}/seller?sellerNo=1")
        assert response is not None
        assert response.status == 200
        await expect(page.locator("#seller-no")).to_have_text("987654")
        await expect(page.locator("#balance")).to_have_count(0)  # not seller 1's wallet
        await expect(page.locator(".seller-notice")).to_have_text([NO_WALLET])

        response = await page.goto(f"{shop_services.url}/seller?cursor=not%20a%20cursor")
        assert response is not None
        assert response.status == 400
        await expect(page.locator("#error-message")).to_have_text("페이지 값이 올바르지 않습니다.")
