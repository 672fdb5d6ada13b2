"""HTML pages of order (8080): the shop (GET /, which writes nothing, logged in or not), and the page helpers the
other pages share (``render``, ``won``, the 403 pages). Paying — 결제하기, the PSP's success and fail redirects —
is in ``pages_pay.py``, the login in ``pages_login.py``, 내 주문 in ``pages_orders.py``, the seller page in
``pages_seller.py``; who is logged in, and the CSRF guard of every form, in ``page_session.py``."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kiwishop.order.domain import OrderError, order_name
from kiwishop.order.page_session import PageRefusal, PageVisit, PageVisitDep
from kiwishop.order.services import OrderServicesDep
from kiwishop.order.showcase import showcase
from kiwishop.platform.errors import AppError, CommonError
from kiwishop.platform.page_session import SHARED_TEMPLATES
from kiwishop.platform.params import MAX_ID, parse_id_list

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader([Path(__file__).parent / "templates", SHARED_TEMPLATES]),
    autoescape=select_autoescape(["html"]),
)
DEFAULT_PRODUCTS = [1, 2, 3]
MAX_LINES = 50  # what POST /api/checkout takes (CheckoutIn.productNoList)
NOT_FROM_HERE = (
    "이 요청은 이 사이트의 페이지에서 보낸 것으로 확인되지 않아 처리하지 않았습니다. "
    "페이지를 새로 고친 뒤 다시 시도해 주세요."
)


def render(visit: PageVisit | None, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """The template with who is logged in (``caller``), the CSRF value of its forms (``csrf``) and the way to log
    in and come back (``login_link``). Never stored by a cache: the pages are one browser's own."""
    session = {"caller": visit.caller, "csrf": visit.csrf, "login_link": visit.login_url()} if visit else {}
    response = HTMLResponse(
        _templates.get_template(name).render(**session, **context), status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )  # fmt: skip
    if visit is not None:
        visit.keep(response)
    return response


async def refusal_page(request: Request, exc: Exception) -> HTMLResponse:
    """A page that could not be served at all (``PageRefusal``; registered by ``create_app``)."""
    assert isinstance(exc, PageRefusal)
    return render(None, "error.html", exc.status, title=exc.title, message=exc.message)


def error_page(visit: PageVisit, error: AppError) -> HTMLResponse:
    message = error.code.message("ko", error.params)
    return render(visit, "fail.html", error.status, code=error.code.code, message=message)


def not_from_here(visit: PageVisit) -> HTMLResponse:
    """A form post without our CSRF value, or from another origin: 403, and nothing was done."""
    return render(visit, "error.html", 403, title="요청을 처리하지 않았습니다", message=NOT_FROM_HERE)


def wrong_account(visit: PageVisit, title: str, message: str) -> HTMLResponse:
    """Logged in, but as an account this page is not for (a seller on 내 주문, a member on the seller page)."""
    return render(visit, "error.html", 403, title=title, message=message)


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


def product_choice(raw_products: list[str]) -> list[int]:
    """The products chosen (``productNoList``, repeated or comma separated; the default three when none), or a
    400 for a bad number or more than checkout takes."""
    products = parse_id_list(raw_products) if raw_products else DEFAULT_PRODUCTS
    if isinstance(products, str) or not products or len(products) > MAX_LINES:
        raise AppError(CommonError.INVALID_REQUEST)
    return products


@router.get("/", response_class=HTMLResponse)
async def checkout_page(request: Request, s: OrderServicesDep, visit: PageVisitDep) -> HTMLResponse:
    """The shop: the hot products to choose from, and what the current choice costs — for anyone, logged in or
    not. It writes nothing (a crawler or a reload creates no order): 결제하기 creates the order for the member
    logged in (``POST /checkout``, from the page's script; without a login it goes to the login first) and opens
    the payment window with it. A ``memberNo`` in the URL (old links) is ignored: it never decides who buys."""
    try:
        product_nos = product_choice(request.query_params.getlist("productNoList"))
        offer, found = await asyncio.gather(showcase(s.hot_catalog_http, s.catalog_http), s.catalog.find(product_nos))
        missing = [n for n in product_nos if n not in found]
        if missing:  # as checkout would refuse them
            raise AppError(OrderError.NOT_EXIST_PRODUCT, missing=", ".join(map(str, missing)))
        products = [found[n] for n in product_nos]
        total = sum((p.price for p in products), Decimal("0.00"))
        if total != total.to_integral_value():
            raise AppError(OrderError.NON_INTEGER_AMOUNT, amount=total)
    except AppError as error:
        return error_page(visit, error)
    return render(
        visit,
        "checkout.html",
        showcase=offer,
        selected=set(product_nos),
        product_nos=product_nos,
        won=won,
        order_name=order_name([p.name for p in products]),
        amount_text=won(total),
        client_key=s.settings.toss_client_key,
        sdk_url=s.settings.toss_sdk_url,
    )
