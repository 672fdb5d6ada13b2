"""The seller page (``GET /seller``, next transactions ``?cursor=``): the logged-in seller's wallet balance (below
zero shown as it is) and transactions (CREDIT 입금, DEBIT 환불) read from wallet, and the sales by product (paid,
canceled, net) read from order-query, both over HTTP (``seller_reads.py``) with the seller's own token: those
services answer a seller about that seller only. A peer that is down costs only its part of the page: what is
available is shown, with a Korean notice for the rest — never a 500.

The seller is the one logged in (``page_session``): without a login the page goes to the login and back, a
member's or ops' login gets a 403 page; a ``sellerNo`` in the URL (old links) is ignored."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiwishop.order.page_session import PageVisitDep
from kiwishop.order.pages import render, won, wrong_account
from kiwishop.order.seller_reads import Missing, ProductSales, Transaction, TransactionPage, Wallet
from kiwishop.order.services import OrderServicesDep

router = APIRouter(include_in_schema=False)
CURSOR = re.compile(r"^[A-Za-z0-9._=-]{1,200}$")  # wallet's nextCursor, handed back as it came
LABELS = {"CREDIT": "입금", "DEBIT": "환불"}
WALLET_DOWN = "지갑 서비스에 연결할 수 없어 잔액과 거래 내역을 표시하지 못했습니다. 잠시 후 다시 시도해 주세요."
NO_WALLET = "이 판매자의 지갑이 없습니다. 판매자 등록이 끝나면 지갑이 만들어집니다."
SELLERS_ONLY = "판매자 정산은 판매자 계정으로 볼 수 있습니다. 로그아웃한 뒤 판매자 계정으로 로그인해 주세요."
BAD_CURSOR = "페이지 값이 올바르지 않습니다."
SALES_DOWN = "주문 조회 서비스에 연결할 수 없어 상품별 판매 현황을 표시하지 못했습니다. 잠시 후 다시 시도해 주세요."


@dataclass(frozen=True)
class TransactionView:
    type: str
    label: str  # 입금 / 환불
    amount: str  # signed: +1,000원 / -2,000원
    order_id: str
    reference_id: int
    created_at: str


@dataclass(frozen=True)
class SalesView:
    product_no: int
    product_name: str
    paid_count: int
    paid_amount: str
    canceled_count: int
    canceled_amount: str
    net: str


def transaction_view(t: Transaction) -> TransactionView:
    sign = "-" if t.type == "DEBIT" else "+"
    return TransactionView(
        type=t.type, label=LABELS.get(t.type, t.type), amount=f"{sign}{won(t.amount)}", order_id=t.order_id or "",
        reference_id=t.reference_id, created_at=t.created_at,
    )  # fmt: skip


def sales_view(p: ProductSales) -> SalesView:
    return SalesView(
        product_no=p.product_no, product_name=p.product_name, paid_count=p.paid_count, paid_amount=won(p.paid_amount),
        canceled_count=p.canceled_count, canceled_amount=won(p.canceled_amount), net=won(p.net),
    )  # fmt: skip


@router.get("/seller", response_class=HTMLResponse)
async def seller_page(request: Request, s: OrderServicesDep, visit: PageVisitDep) -> Response:
    caller = visit.caller
    if caller is None:
        return RedirectResponse(visit.login_url(), status_code=303)
    seller_no = caller.seller_no
    if seller_no is None:
        return wrong_account(visit, "판매자 정산", SELLERS_ONLY)
    cursor = request.query_params.get("cursor") or None
    if cursor is not None and not CURSOR.match(cursor):
        return render(visit, "error.html", 400, title="판매자 정산", message=BAD_CURSOR)
    reads, token = s.seller_reads, caller.token
    wallet, page, sales = await asyncio.gather(
        reads.wallet(seller_no, token), reads.transactions(seller_no, cursor, token), reads.sales(seller_no, token)
    )
    notices: list[str] = []
    for missing in (wallet, page):
        text = NO_WALLET if missing is Missing.NO_WALLET else WALLET_DOWN if missing is Missing.UNAVAILABLE else None
        if text and text not in notices:
            notices.append(text)
    if sales is Missing.UNAVAILABLE:
        notices.append(SALES_DOWN)
    return render(
        visit, "seller.html", seller_no=seller_no, cursor=cursor, notices=notices,
        balance=won(wallet.balance) if isinstance(wallet, Wallet) else None,
        transactions=[transaction_view(t) for t in page.items] if isinstance(page, TransactionPage) else None,
        next_cursor=page.next_cursor if isinstance(page, TransactionPage) else None,
        sales=[sales_view(p) for p in sales] if isinstance(sales, list) else None,
    )  # fmt: skip
