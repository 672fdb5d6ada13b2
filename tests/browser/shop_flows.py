"""What the browser tests share: a browser logged in (the session cookie of a minted token, or the login form),
paying through the shop's pages, reading order's and the PSP's books, and what the pages read back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Locator, Page, Route, expect
from sqlalchemy import text

from kiwishop.order.page_session import CSRF_COOKIE, SESSION_COOKIE
from kiwishop.platform.db import Database
from tests.browser.conftest import Shop
from tests.support import as_ops, emulator_admin

APPROVING_CARD = "4111-1111-1111-1111"
PRODUCTS = {1: ("상품A", 1000), 2: ("상품B", 2000), 3: ("상품C", 3000)}  # catalog's seed, all seller 1's
# A paid line of seller 1, per product: how many, their sum, how many were canceled and their sum.
SALES_OF_SELLER = text(
    "SELECT o.product_no, COUNT(*) AS paid, SUM(o.amount) AS paid_amount,"
    " SUM(o.payment_order_status = 'CANCELED') AS canceled,"
    " SUM(CASE WHEN o.payment_order_status = 'CANCELED' THEN o.amount ELSE 0 END) AS canceled_amount"
    " FROM payment_orders o JOIN payment_events e ON e.payment_event_no = o.payment_event_no"
    " WHERE e.is_payment_done AND o.seller_no = :seller GROUP BY o.product_no"
)


def won(amount: int | Decimal) -> str:
    return f"{int(amount):,}원"


async def log_in_as(context: BrowserContext, shop_url: str, token: str) -> None:
    """The browser logged in as the token's holder: its ``kiwi_session`` cookie, as ``POST /login`` sets it."""
    await context.add_cookies(
        [{"name": SESSION_COOKIE, "value": token, "url": shop_url, "httpOnly": True, "sameSite": "Lax"}]
    )


@asynccontextmanager
async def page_as(browser: Browser, shop_url: str, token: str | None) -> AsyncIterator[Page]:
    """A page of a browser of its own (cookies and all), logged in with ``token`` (None: not logged in)."""
    context = await browser.new_context()
    try:
        if token is not None:
            await log_in_as(context, shop_url, token)
        yield await context.new_page()
    finally:
        await context.close()


async def log_in_with_form(page: Page, login_id: str, password: str) -> None:
    """On the login page: type the login id and password and press 로그인 (what comes next is the caller's to
    check)."""
    await expect(page.locator("#result-title")).to_have_text("로그인")
    await page.fill("#login-id", login_id)
    await page.fill("#password", password)
    await page.click("#login-button")


async def cookie_of(context: BrowserContext, name: str) -> dict[str, Any] | None:
    found = [dict(c) for c in await context.cookies() if c.get("name") == name]
    return found[0] if found else None


async def csrf_of(context: BrowserContext) -> str:
    cookie = await cookie_of(context, CSRF_COOKIE)
    assert cookie is not None, "no page set the CSRF cookie yet"
    return str(cookie["value"])


async def press_pay(page: Page, amount: int) -> str:
    """Press 결제하기: the page creates the order (POST /checkout, for the member logged in) only now and opens the
    window with it; the new order's orderId, after checking that the order is for ``amount``. The checkout answer
    is read on its way to the page (the page leaves for the window at once, taking the answer's body with it)."""
    created: list[tuple[int, dict[str, Any]]] = []

    async def record(route: Route) -> None:
        response = await route.fetch()
        created.append((response.status, await response.json()))
        await route.fulfill(response=response)

    await page.route("**/checkout", record)
    try:
        await page.click("#payment-button")
        await page.wait_for_selector("#card-number")  # the window, for this order
    finally:
        await page.unroute("**/checkout", record)
    [(status, body)] = created  # one press, one order
    assert status == 201, body
    assert int(Decimal(str(body["amount"]))) == amount
    return str(body["orderId"])


async def pay_in_browser(page: Page, shop: Shop, products: list[int]) -> str:
    """Checkout page → the emulator's window with the approving card → 결제 성공, as the member the page is logged
    in as; the paid order's orderId."""
    chosen = "&".join(f"productNoList={n}" for n in products)
    await page.goto(f"{shop.url}/?{chosen}")
    total = sum(PRODUCTS[n][1] for n in products)
    await expect(page.locator("#amount")).to_have_text(won(total))
    order_id = await press_pay(page, total)
    await page.fill("#card-number", APPROVING_CARD)
    await page.click("#pay-button")
    await expect(page.locator("#result-title")).to_have_text("결제 성공", timeout=20_000)
    await expect(page.locator("#order-id")).to_have_text(order_id)
    return order_id


def order_section(page: Page, order_id: str) -> Locator:
    return page.locator(f'section.order[data-order-id="{order_id}"]')


def line_row(page: Page, order_id: str, product_no: int) -> Locator:
    return order_section(page, order_id).locator(f'tr.line[data-product-no="{product_no}"]')


async def line_states(page: Page, order_id: str) -> dict[int, str]:
    """productNo → the status the page shows for that line of the order."""
    rows = order_section(page, order_id).locator("tr.line")
    found = {}
    for row in await rows.all():
        found[int(await row.get_attribute("data-product-no") or 0)] = await row.locator(".line-status").inner_text()
    return found


async def lines_at_order(shop: Shop, order_id: str) -> dict[int, str]:
    """What order itself holds (O5): productNo → line status."""
    async with httpx.AsyncClient(base_url=shop.url, headers=as_ops()) as order:
        response = await order.get("/api/orders", params={"orderId": order_id})
        assert response.status_code == 200, response.text
        return {line["productNo"]: line["status"] for line in response.json()["paymentOrderList"]}


async def emulator_stats(shop: Shop) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=shop.emulator_url, headers=emulator_admin()) as emulator:
        response = await emulator.get("/emulator/stats")
        assert response.status_code == 200, response.text
        return dict(response.json())


@dataclass(frozen=True)
class SellerBooks:
    """What the seller page must show, from order's own rows (the source of truth): the wallet's balance (seed: 0,
    every paid line credited, every canceled one debited) and the sales rows by product."""

    balance: str
    sales: dict[int, tuple[str, str, str, str]]  # productNo → (name, paid, canceled, net) as the page writes them


async def seller_books(shop: Shop, seller_no: int) -> SellerBooks:
    db = Database.connect(shop.infra, shop.order_db, pool_size=1, max_overflow=0)
    try:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(SALES_OF_SELLER, {"seller": seller_no})).all()
    finally:
        await db.close()
    balance = sum((r.paid_amount - r.canceled_amount for r in rows), Decimal(0))
    sales = {
        int(r.product_no): (
            PRODUCTS[int(r.product_no)][0], f"{r.paid}건 · {won(r.paid_amount)}",
            f"{int(r.canceled)}건 · {won(r.canceled_amount)}", won(r.paid_amount - r.canceled_amount),
        )
        for r in rows
    }  # fmt: skip
    return SellerBooks(won(balance), sales)


@dataclass(frozen=True)
class SellerPage:
    """What the seller page shows, read from its HTML."""

    balance: str | None
    transactions: list[tuple[str, str, str, str]]  # (type, label, signed amount, orderId), newest first
    sales: dict[int, tuple[str, str, str, str]] | None
    notices: list[str]


async def read_seller_page(page: Page, shop_url: str) -> SellerPage:
    """The seller page of the seller the page is logged in as."""
    response = await page.goto(f"{shop_url}/seller")
    assert response is not None
    assert response.status == 200, await response.text()
    balance = await page.locator("#balance").inner_text() if await page.locator("#balance").count() else None
    transactions = [
        (
            await row.get_attribute("data-type") or "", await row.locator(".tx-label").inner_text(),
            await row.locator(".tx-amount").inner_text(), await row.get_attribute("data-order-id") or "",
        )
        for row in await page.locator("tr.transaction").all()
    ]  # fmt: skip
    sales = None
    if await page.locator("#sales").count():
        sales = {}
        for row in await page.locator("tr.sales").all():
            cells = [await row.locator(f".sales-{name}").inner_text() for name in ("name", "paid", "canceled", "net")]
            sales[int(await row.get_attribute("data-product-no") or 0)] = (cells[0], cells[1], cells[2], cells[3])
    notices = [await n.inner_text() for n in await page.locator(".seller-notice").all()]
    return SellerPage(balance, transactions, sales, notices)
