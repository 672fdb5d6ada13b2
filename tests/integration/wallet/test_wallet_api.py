from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from kiwishop.wallet.consumers import settlement_handler
from tests.integration.seller_wallet.support import IDS, add_wallet, exact, payment_confirm, wallet_settings
from tests.support import as_ops, as_seller, running_app, unique


@pytest.fixture(scope="module")
async def wallet(infra: InfraSettings, wallet_schema: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(wallet_settings(infra))) as client:
        yield client


async def test_a_sellers_wallet_shows_number_balance_with_two_decimals_and_version(
    wallet: httpx.AsyncClient, wallet_db: Database
) -> None:
    seller_no = IDS.next_id()
    wallet_no = await add_wallet(wallet_db, seller_no)
    response = await wallet.get(f"/api/wallets/sellers/{seller_no}", headers=as_seller(seller_no))
    assert response.status_code == 200
    assert exact(response) == {"walletNo": wallet_no, "sellerNo": seller_no, "balance": Decimal("0.00"), "version": 0}
    assert b'"balance":0.00' in response.content


async def test_an_unknown_seller_has_no_wallet_and_no_transactions(wallet: httpx.AsyncClient) -> None:
    for path in ("/api/wallets/sellers/424242", "/api/wallets/sellers/424242/transactions"):
        for caller in (as_seller(424242), as_ops()):
            response = await wallet.get(path, headers={"Accept-Language": "en", **caller})
            assert response.status_code == 404
            assert response.json() == {"code": "WLT0001", "message": "The seller has no wallet."}
    bad = await wallet.get("/api/wallets/sellers/abc", headers=as_ops())
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_REQUEST")


async def test_transactions_come_newest_first_in_cursor_pages_until_next_cursor_is_null(
    wallet: httpx.AsyncClient, wallet_db: Database
) -> None:
    seller_no = IDS.next_id()
    wallet_no = await add_wallet(wallet_db, seller_no)
    settle = settlement_handler(wallet_db, Outbox(Snowflake(995)), Snowflake(996))
    orders = [unique("order") for _ in range(5)]
    for i, order_id in enumerate(orders):
        await settle(payment_confirm(order_id, [(IDS.next_id(), seller_no, f"{i + 1}.50", "SUCCESS")]))
    seen: list[dict[str, object]] = []
    cursor = ""
    for expected_size in (2, 2, 1):
        page = await wallet.get(
            f"/api/wallets/sellers/{seller_no}/transactions",
            params={"limit": 2, "cursor": cursor},
            headers=as_seller(seller_no),
        )
        assert page.status_code == 200
        body = exact(page)
        assert len(body["transactions"]) == expected_size
        seen.extend(body["transactions"])
        cursor = body["nextCursor"]
        if expected_size == 2:
            assert cursor == str(body["transactions"][-1]["walletTransactionNo"])
    assert cursor is None
    assert [t["orderId"] for t in seen] == list(reversed(orders))
    assert [t["amount"] for t in seen] == [
        Decimal("5.50"),
        Decimal("4.50"),
        Decimal("3.50"),
        Decimal("2.50"),
        *[Decimal("1.50")],
    ]
    first = seen[0]
    assert set(first) == {
        "walletTransactionNo",
        "walletNo",
        "amount",
        "type",
        "referenceType",
        "referenceId",
        "orderId",
        "createdAt",
    }
    assert (first["walletNo"], first["type"], first["referenceType"]) == (wallet_no, "CREDIT", "PAYMENT_ORDER")
    assert str(first["createdAt"]).endswith("Z")
    default = exact(await wallet.get(f"/api/wallets/sellers/{seller_no}/transactions", headers=as_seller(seller_no)))
    assert (len(default["transactions"]), default["nextCursor"]) == (5, None)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "WLT0002"),
        ("limit=101", "WLT0002"),
        ("limit=-1", "WLT0002"),
        ("limit=x", "WLT0002"),
        ("cursor=abc", "WLT0003"),
    ],
)
async def test_a_bad_limit_or_cursor_is_a_400_with_the_error_body(
    wallet: httpx.AsyncClient, wallet_db: Database, query: str, code: str
) -> None:
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    response = await wallet.get(f"/api/wallets/sellers/{seller_no}/transactions?{query}", headers=as_seller(seller_no))
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"]
