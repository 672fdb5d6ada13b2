"""HTML pages of order (8080): checkout (GET /, which writes nothing), the Toss success and fail redirects; the
page helpers the other pages share (``render``, ``won``). 내 주문 is in ``pages_orders.py``, the seller page in
``pages_seller.py``."""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kiwishop.order.domain import ORDER_ID_PATTERN, PAID, OrderError, PaymentStatus, order_name
from kiwishop.order.messages import failure_text
from kiwishop.order.services import OrderServicesDep
from kiwishop.order.showcase import showcase
from kiwishop.platform.errors import AppError, CommonError
from kiwishop.platform.params import MAX_ID, parse_id_list

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
DEFAULT_PRODUCTS = [1, 2, 3]
_CANCELED = {PaymentStatus.PARTIAL_CANCELED: "일부 취소됨", PaymentStatus.CANCELED: "전액 취소됨"}


def render(name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**context), status_code=status_code)


def error_page(error: AppError) -> HTMLResponse:
    return render("fail.html", error.status, code=error.code.code, message=error.code.message("ko", error.params))


def won(amount: Decimal) -> str:
    """1,000원; -2,000원 (a balance below zero, as it is); 1,234.50원 (an amount that is not whole won)."""
    if amount == amount.to_integral_value():
        return f"{int(amount):,}원"
    return f"{amount:,.2f}원"


def positive_id(raw: str | None) -> int | None:
    """A positive id (1..2^63-1) from a query or form value; None for anything else."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


MAX_LINES = 50  # what POST /api/checkout takes (CheckoutIn.productNoList)


def _checkout_params(request: Request) -> tuple[int, list[int]]:
    raw_products = request.query_params.getlist("productNoList")
    products = parse_id_list(raw_products) if raw_products else DEFAULT_PRODUCTS
    raw_member = request.query_params.get("memberNo", "1")
    if isinstance(products, str) or not products or not raw_member.isdigit() or not 1 <= int(raw_member) <= MAX_ID:
        raise AppError(CommonError.INVALID_REQUEST)
    if len(products) > MAX_LINES:
        raise AppError(CommonError.INVALID_REQUEST)
    return int(raw_member), products


@router.get("/", response_class=HTMLResponse)
async def checkout_page(request: Request, s: OrderServicesDep) -> HTMLResponse:
    """The shop: the hot products to choose from, and what the current choice costs. It writes nothing (a
    crawler or a reload creates no order): 결제하기 creates the order (POST /api/checkout, from the page's
    script) and opens the payment window with it."""
    try:
        member_no, product_nos = _checkout_params(request)
        offer, found = await asyncio.gather(showcase(s.hot_catalog_http, s.catalog_http), s.catalog.find(product_nos))
        missing = [n for n in product_nos if n not in found]
        if missing:  # as checkout would refuse them
            raise AppError(OrderError.NOT_EXIST_PRODUCT, missing=", ".join(map(str, missing)))
        products = [found[n] for n in product_nos]
        total = sum((p.price for p in products), Decimal("0.00"))
        if total != total.to_integral_value():
            raise AppError(OrderError.NON_INTEGER_AMOUNT, amount=total)
    except AppError as error:
        return error_page(error)
    return render(
        "checkout.html",
        showcase=offer,
        selected=set(product_nos),
        member_no=member_no,
        product_nos=product_nos,
        won=won,
        order_name=order_name([p.name for p in products]),
        amount_text=won(total),
        client_key=s.settings.toss_client_key,
        sdk_url=s.settings.toss_sdk_url,
    )


@router.get("/success", response_class=HTMLResponse)
async def success_page(request: Request, s: OrderServicesDep) -> HTMLResponse:
    """Toss sends the buyer here after authorisation; we confirm now and show the real outcome."""
    q = request.query_params
    payment_key, order_id = q.get("paymentKey", ""), q.get("orderId", "")
    try:
        amount = Decimal(q.get("amount", ""))
    except InvalidOperation:
        amount = Decimal(0)
    if not payment_key or not ORDER_ID_PATTERN.match(order_id) or amount <= 0:
        return error_page(AppError(CommonError.INVALID_REQUEST))
    try:
        payment = await s.confirm_payment(payment_key, order_id, amount)
    except AppError as error:
        if error.code is not OrderError.PAYMENT_IN_PROGRESS:
            return error_page(error)
        return render("success.html", state="PENDING", order_id=order_id, amount_text=won(amount))
    if payment.status in PAID:  # paid, and perhaps given back in part or in whole since
        return render(
            "success.html", state="SUCCESS", order_id=order_id, amount_text=won(payment.total_amount),
            payment_key=payment.payment_key, order_name=payment.order_name, canceled=_CANCELED.get(payment.status),
        )  # fmt: skip
    if payment.status is PaymentStatus.FAILURE:
        code = payment.failure_code or OrderError.PAYMENT_FAILED.code
        reason = failure_text(code, payment.failure_message, "ko")  # the pages are Korean
        return render("fail.html", 400, code=code, message=reason, order_id=order_id)
    return render("success.html", state="PENDING", order_id=order_id, amount_text=won(payment.total_amount))


@router.get("/fail", response_class=HTMLResponse)
async def fail_page(request: Request) -> HTMLResponse:
    q = request.query_params
    return render("fail.html", code=q.get("code", ""), message=q.get("message", ""), order_id=q.get("orderId", ""))
