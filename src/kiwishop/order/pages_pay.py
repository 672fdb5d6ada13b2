"""Paying through the pages: 결제하기 (``POST /checkout``, sent by the shop page's script), the PSP's redirects
(``/success``, which confirms, and ``/fail``) and what the 결제 확인 중 page polls (``/success/status``).

Each acts for the member logged in (``page_session``), never for a number from the URL or the form: the order is
created for that member, and ``/success`` confirms an order only for its buyer. The PSP's redirect is a top-level
GET, so the Lax session cookie comes along even from the PSP's own site; without a login it goes to the login and
back to the same URL. The page's script calls order's handlers through these routes, not the JSON APIs, whose
bearer token the page cannot hold (the session cookie is HttpOnly)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiwishop.order import queries
from kiwishop.order.domain import ORDER_ID_PATTERN, PAID, OrderError, PaymentStatus
from kiwishop.order.handlers.checkout import checkout
from kiwishop.order.messages import failure_text
from kiwishop.order.page_session import PageVisit, PageVisitDep, form_is_ours, read_form
from kiwishop.order.pages import NOT_FROM_HERE, error_page, product_choice, render, won
from kiwishop.order.services import OrderServicesDep
from kiwishop.platform.errors import AppError, CommonError
from kiwishop.platform.identity import AuthError
from kiwishop.platform.web import JSONResponse

router = APIRouter(include_in_schema=False)
_CANCELED = {PaymentStatus.PARTIAL_CANCELED: "일부 취소됨", PaymentStatus.CANCELED: "전액 취소됨"}
MEMBERS_ONLY = "회원 계정으로 로그인해야 주문할 수 있습니다."
NOT_YOUR_ORDER = "이 주문은 로그인한 회원의 주문이 아닙니다. 주문한 회원으로 로그인해 주세요."


def _refused(error: AuthError, message: str) -> JSONResponse:
    return JSONResponse({"code": error.code, "message": message}, status_code=error.status)


@router.post("/checkout")
async def checkout_from_page(request: Request, s: OrderServicesDep, visit: PageVisitDep) -> JSONResponse:
    """결제하기: the order for the logged-in member, as ``POST /api/checkout`` would create it → 201 ``{orderId,
    orderName, amount}`` for the page's script; 401 without a login (the script goes to the login), 403 for
    another account's role or a post that is not from our page; an error of checkout's own as the API answers it."""
    form = await read_form(request)
    if not form_is_ours(request, visit, form):
        return _refused(AuthError.FORBIDDEN, NOT_FROM_HERE)
    if visit.caller is None:
        return _refused(AuthError.UNAUTHENTICATED, "로그인이 필요합니다.")
    member_no = visit.caller.member_no
    if member_no is None:
        return _refused(AuthError.FORBIDDEN, MEMBERS_ONLY)
    product_nos = product_choice((form or {}).get("productNoList", []))
    await s.count("checkout", member_no)
    result = await checkout(s.store, s.catalog, s.ids, member_no=member_no, product_nos=product_nos)
    body = {"orderId": result.order_id, "orderName": result.order_name, "amount": int(result.amount)}
    return JSONResponse(body, status_code=201, headers={"Cache-Control": "no-store"})


async def _buyer_check(s: OrderServicesDep, visit: PageVisit, order_id: str) -> HTMLResponse | None:
    """None when the logged-in caller is the order's buyer; else the page that says why not."""
    try:
        payment = await queries.payment_of_order(s.db, order_id)
    except AppError as error:
        return error_page(visit, error)
    if visit.caller is None or visit.caller.member_no != payment.member_no:
        return render(visit, "error.html", 403, title="결제를 확인할 수 없습니다", message=NOT_YOUR_ORDER)
    return None


@router.get("/success", response_class=HTMLResponse)
async def success_page(request: Request, s: OrderServicesDep, visit: PageVisitDep) -> Response:
    """Toss sends the buyer here after authorisation; we confirm now — for the order's buyer only — and show the
    real outcome."""
    q = request.query_params
    payment_key, order_id = q.get("paymentKey", ""), q.get("orderId", "")
    try:
        amount = Decimal(q.get("amount", ""))
    except InvalidOperation:
        amount = Decimal(0)
    if not payment_key or not ORDER_ID_PATTERN.match(order_id) or amount <= 0:
        return error_page(visit, AppError(CommonError.INVALID_REQUEST))
    if visit.caller is None:
        return RedirectResponse(visit.login_url(), status_code=303)
    refused = await _buyer_check(s, visit, order_id)
    if refused is not None:
        return refused
    try:
        await s.count("confirm", visit.caller.member_no or 0)  # the buyer: _buyer_check made sure
        payment = await s.confirm_payment(payment_key, order_id, amount)
    except AppError as error:
        if error.code is not OrderError.PAYMENT_IN_PROGRESS:
            return error_page(visit, error)
        return render(visit, "success.html", state="PENDING", order_id=order_id, amount_text=won(amount))
    if payment.status in PAID:  # paid, and perhaps given back in part or in whole since
        return render(
            visit, "success.html", state="SUCCESS", order_id=order_id, amount_text=won(payment.total_amount),
            payment_key=payment.payment_key, order_name=payment.order_name, canceled=_CANCELED.get(payment.status),
        )  # fmt: skip
    if payment.status is PaymentStatus.FAILURE:
        code = payment.failure_code or OrderError.PAYMENT_FAILED.code
        reason = failure_text(code, payment.failure_message, "ko")  # the pages are Korean
        return render(visit, "fail.html", 400, code=code, message=reason, order_id=order_id)
    return render(visit, "success.html", state="PENDING", order_id=order_id, amount_text=won(payment.total_amount))


@router.get("/success/status")
async def success_status(request: Request, s: OrderServicesDep, visit: PageVisitDep) -> JSONResponse:
    """What the 결제 확인 중 page polls: ``{"status"}`` of the buyer's own order (401 without a login, 403 for
    another account, 404 for an unknown order)."""
    order_id = request.query_params.get("orderId", "")
    if not ORDER_ID_PATTERN.match(order_id):
        raise AppError(CommonError.INVALID_REQUEST)
    if visit.caller is None:
        raise AppError(AuthError.UNAUTHENTICATED)
    payment = await queries.payment_of_order(s.db, order_id)
    if visit.caller.member_no != payment.member_no:
        raise AppError(AuthError.FORBIDDEN)
    return JSONResponse({"status": payment.status.value}, headers={"Cache-Control": "no-store"})


@router.get("/fail", response_class=HTMLResponse)
async def fail_page(request: Request, visit: PageVisitDep) -> HTMLResponse:
    q = request.query_params
    return render(
        visit, "fail.html", code=q.get("code", ""), message=q.get("message", ""), order_id=q.get("orderId", "")
    )
