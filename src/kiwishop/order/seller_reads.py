"""What the seller page reads from other services over HTTP: the seller's wallet (balance, transactions) from
wallet (8082) and the sales by product from order-query (8087), each asked with the logged-in seller's own token
(``Authorization: Bearer``: those services answer a seller about that seller only). Nothing here raises for a peer
that is down, slow or answers something unexpected: the read comes back as ``UNAVAILABLE`` (or ``NO_WALLET`` for
wallet's 404) and the page shows what it has, with a notice."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kiwishop.order.domain import SEOUL
from kiwishop.platform import jsonutil
from kiwishop.platform.httpclient import HttpClient, HttpError, Params

log = logging.getLogger("kiwishop.order.seller_reads")
TRANSACTIONS_PAGE = 20


class Missing(enum.Enum):
    NO_WALLET = "no_wallet"  # wallet answered 404: the seller has no wallet (yet)
    UNAVAILABLE = "unavailable"  # down, timed out, or an answer that is not what the API documents


@dataclass(frozen=True)
class Wallet:
    wallet_no: int
    balance: Decimal  # below zero when the seller owes canceled lines: shown as it is


@dataclass(frozen=True)
class Transaction:
    transaction_no: int
    type: str  # CREDIT (a paid line) or DEBIT (a canceled line taken back)
    amount: Decimal  # positive for both types
    reference_id: int  # the line's paymentOrderNo
    order_id: str | None
    created_at: str  # Asia/Seoul, "YYYY-MM-DD HH:MM:SS"


@dataclass(frozen=True)
class TransactionPage:
    items: list[Transaction]
    next_cursor: str | None


@dataclass(frozen=True)
class ProductSales:
    product_no: int
    product_name: str
    paid_count: int
    paid_amount: Decimal
    canceled_count: int
    canceled_amount: Decimal
    net: Decimal  # paid − canceled (order-query's ``amount``)


def seoul_time(utc_iso: str) -> str:
    """wallet's ``createdAt`` (UTC, ``…Z``) as the buyer's and seller's local time."""
    moment = dt.datetime.fromisoformat(utc_iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M:%S")


async def _get(http: HttpClient, path: str, token: str, params: Params | None = None) -> tuple[int, Any] | None:
    """(status, parsed body), or None when the peer could not be asked or answered something that is not JSON. A
    401/403 (the token expired on its way, or the peer will not have it) is a status like any other: unavailable."""
    try:
        response = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        if response.status_code in (401, 403):
            log.warning("seller page: %s%s refused the seller's token (%s)", http.base_url, path, response.status_code)
        return response.status_code, jsonutil.loads(response.content)
    except (HttpError, ValueError) as exc:
        log.warning("seller page: %s%s unavailable: %s", http.base_url, path, exc)
        return None


def _transaction(t: dict[str, Any]) -> Transaction:
    order_id = t.get("orderId")
    return Transaction(
        transaction_no=int(t["walletTransactionNo"]), type=str(t["type"]), amount=Decimal(t["amount"]),
        reference_id=int(t["referenceId"]), order_id=str(order_id) if order_id is not None else None,
        created_at=seoul_time(str(t["createdAt"])),
    )  # fmt: skip


def _sales(p: dict[str, Any]) -> ProductSales:
    return ProductSales(
        product_no=int(p["productNo"]), product_name=str(p["productName"]), paid_count=int(p["paidCount"]),
        paid_amount=Decimal(p["paidAmount"]), canceled_count=int(p["canceledCount"]),
        canceled_amount=Decimal(p["canceledAmount"]), net=Decimal(p["amount"]),
    )  # fmt: skip


_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError)


class SellerReads:
    """One shared HTTP client per peer (built and closed by ``create_app``)."""

    def __init__(self, wallet: HttpClient, order_query: HttpClient) -> None:
        self._wallet = wallet
        self._order_query = order_query

    async def wallet(self, seller_no: int, token: str) -> Wallet | Missing:
        answer = await _get(self._wallet, f"/api/wallets/sellers/{seller_no}", token)
        if answer is not None and answer[0] == 404:
            return Missing.NO_WALLET
        if answer is None or answer[0] != 200:
            return Missing.UNAVAILABLE
        try:
            return Wallet(wallet_no=int(answer[1]["walletNo"]), balance=Decimal(answer[1]["balance"]))
        except _SHAPE_ERRORS:
            log.warning("seller page: wallet answered an unexpected shape")
            return Missing.UNAVAILABLE

    async def transactions(self, seller_no: int, cursor: str | None, token: str) -> TransactionPage | Missing:
        params: dict[str, str | int] = {"limit": TRANSACTIONS_PAGE}
        if cursor:
            params["cursor"] = cursor
        answer = await _get(self._wallet, f"/api/wallets/sellers/{seller_no}/transactions", token, params)
        if answer is not None and answer[0] == 404:
            return Missing.NO_WALLET
        if answer is None or answer[0] != 200:
            return Missing.UNAVAILABLE
        try:
            next_cursor = answer[1].get("nextCursor")
            return TransactionPage(
                items=[_transaction(t) for t in answer[1]["transactions"]],
                next_cursor=str(next_cursor) if next_cursor is not None else None,
            )
        except _SHAPE_ERRORS:
            log.warning("seller page: wallet's transactions came in an unexpected shape")
            return Missing.UNAVAILABLE

    async def sales(self, seller_no: int, token: str) -> list[ProductSales] | Missing:
        answer = await _get(self._order_query, f"/api/orders/sellers/{seller_no}", token)
        if answer is None or answer[0] != 200:
            return Missing.UNAVAILABLE
        try:
            return [_sales(p) for p in answer[1]["orderTotalAmountGroupingProductList"]]
        except _SHAPE_ERRORS:
            log.warning("seller page: order-query's sales came in an unexpected shape")
            return Missing.UNAVAILABLE
