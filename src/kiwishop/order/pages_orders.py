"""내 주문 (``GET /my/orders``): the logged-in member's paid orders from order's own O6 read — newest first, paged
with its nextCursor (``?cursor=``) — each with its lines, the order's state and what was given back, and 취소
buttons per line and per order.

The buttons post to ``POST /my/orders/cancel``, which runs order's cancel handler in-process (the code path of
``POST /api/payments/{orderId}/cancel``) and redirects back (Post/Redirect/Get, 303) to the page with the outcome:
the cancel it recorded, by its number, shown as it is stored when the page is read (취소 완료, 취소 확인 중 while
the PSP's word is awaited — the page then reloads itself —, the PSP's refusal), or the error that refused the
request. A form names the lines it cancels (the order button: every line it showed as cancelable), so a second
submission of the same form gets the stored cancel back (the handler is idempotent per line), never a second
cancel, and a stale page never cancels a line its buyer did not see. The page's script also sends a form once.

The member is the one logged in (``page_session``): without a login the page goes to the login and back, a seller's
or ops' login gets a 403 page; a ``memberNo`` in the URL or a form (old links) is ignored. A cancel form acts only
as that member and only with the page's CSRF value: another member's order is refused as unknown (PEC0004), a form
from elsewhere with a 403 page — nothing cancelled either way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiwishop.order import queries
from kiwishop.order.cancellation import Cancel, CancelStatus, refusal_error
from kiwishop.order.domain import ORDER_ID_PATTERN, OrderError, Payment, PaymentStatus, seoul_iso
from kiwishop.order.page_session import PageVisit, PageVisitDep, field, form_is_ours, read_form
from kiwishop.order.pages import not_from_here, positive_id, render, won, wrong_account
from kiwishop.order.services import OrderServicesDep
from kiwishop.platform.errors import AppError, CommonError, ErrorCode

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 10
CANCEL_REASON = "구매자 요청(내 주문)"
MEMBERS_ONLY = "내 주문은 회원 계정으로 볼 수 있습니다. 로그아웃한 뒤 회원 계정으로 로그인해 주세요."
STATES = {
    PaymentStatus.SUCCESS: "결제 완료", PaymentStatus.PARTIAL_CANCELED: "부분 취소",
    PaymentStatus.CANCELED: "전액 취소", PaymentStatus.EXECUTING: "결제 확인 중", PaymentStatus.UNKNOWN: "결제 확인 중",
    PaymentStatus.QUARANTINED: "결제 확인 중", PaymentStatus.FAILURE: "결제 실패",
    PaymentStatus.NOT_STARTED: "결제 전",
}  # fmt: skip
LINE_STATES = {**STATES, PaymentStatus.CANCELED: "취소됨"}
CANCEL_PENDING = "취소 확인 중"
BAD_CURSOR = "페이지 값이 올바르지 않습니다."
ERRORS: dict[str, ErrorCode] = {e.code: e for e in (*OrderError, *CommonError)}
PLACEHOLDER = re.compile(r"(: )?\{\w+\}")  # a message parameter the redirect did not carry


@dataclass(frozen=True)
class LineView:
    payment_order_no: int
    product_no: int
    product_name: str
    amount: str
    state: str
    cancelable: bool


@dataclass(frozen=True)
class OrderView:
    order_id: str
    order_name: str
    approved_at: str
    state: str
    amount: str
    refunded: str
    cancel_pending: bool  # a cancel of it awaits the PSP's word: no new cancel until it is decided
    lines: list[LineView]

    @property
    def cancelable(self) -> list[int]:
        return [line.payment_order_no for line in self.lines if line.cancelable]


@dataclass(frozen=True)
class Notice:
    kind: str  # done | pending | error
    message: str
    order_id: str


def _local_time(payment: Payment) -> str:
    stamp = seoul_iso(payment.approved_at)
    return stamp[:16].replace("T", " ") if stamp else ""


def order_view(payment: Payment, pending_lines: set[int]) -> OrderView:
    pending = bool(pending_lines)
    lines = [
        LineView(
            payment_order_no=line.payment_order_no, product_no=line.product_no, product_name=line.product_name,
            amount=won(line.amount),
            state=CANCEL_PENDING if line.payment_order_no in pending_lines else LINE_STATES[line.status],
            cancelable=line.status is PaymentStatus.SUCCESS and not pending,
        )
        for line in payment.lines
    ]  # fmt: skip
    refunded = sum((line.amount for line in payment.lines if line.status is PaymentStatus.CANCELED), Decimal(0))
    return OrderView(
        order_id=payment.order_id, order_name=payment.order_name, approved_at=_local_time(payment),
        state=CANCEL_PENDING if pending else STATES[payment.status], amount=won(payment.total_amount),
        refunded=won(refunded), cancel_pending=pending, lines=lines,
    )  # fmt: skip


def cancel_notice(cancel: Cancel) -> Notice:
    """A cancel as stored now: what the buyer is told about it."""
    if cancel.status is CancelStatus.DONE:
        return Notice("done", f"취소되었습니다. {won(cancel.amount)}을 환불했습니다.", cancel.order_id)
    if cancel.status is CancelStatus.FAILED:
        code = cancel.failure_code
        return Notice("error", refusal_error(code).message("ko", {"psp_code": code}), cancel.order_id)
    message = f"{CANCEL_PENDING}: 결제사의 응답을 기다리고 있습니다({won(cancel.amount)}). 잠시 후 다시 확인합니다."
    return Notice("pending", message, cancel.order_id)


def error_notice(order_id: str, code: str, lines: str | None) -> Notice:
    """The error that refused a cancel request, by its code (the page's own table: never text from the URL)."""
    error = ERRORS.get(code)
    if error is None:
        return Notice("error", "취소를 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.", order_id)
    numbers = [n for n in (lines or "").split(",") if n.isascii() and n.isdigit()][:100]
    message = error.message("ko", {"lines": ", ".join(numbers)} if numbers else None)
    return Notice("error", PLACEHOLDER.sub("", message), order_id)


async def _notice(s: OrderServicesDep, request: Request, member_no: int) -> Notice | None:
    q = request.query_params
    order_id = q.get("orderId", "")
    if not ORDER_ID_PATTERN.match(order_id):
        return None
    cancel_no = positive_id(q.get("cancelNo"))
    if cancel_no is not None:
        cancel = await queries.cancel_of_member(s.db, order_id, cancel_no, member_no)
        return cancel_notice(cancel) if cancel is not None else None
    code = q.get("error")
    return error_notice(order_id, code, q.get("lines")) if code else None


def _bad_request(visit: PageVisit, message: str = "요청 값이 올바르지 않습니다.") -> HTMLResponse:
    return render(visit, "error.html", 400, title="내 주문", message=message)


def _member(visit: PageVisit) -> int | Response:
    """The logged-in member's number; else where to go instead (the login, or a 403 page for another role)."""
    if visit.caller is None:
        return RedirectResponse(visit.login_url("/my/orders"), status_code=303)
    if visit.caller.member_no is None:
        return wrong_account(visit, "내 주문", MEMBERS_ONLY)
    return visit.caller.member_no


@router.get("/my/orders", response_class=HTMLResponse)
async def my_orders(request: Request, s: OrderServicesDep, visit: PageVisitDep) -> Response:
    member_no = _member(visit)
    if isinstance(member_no, Response):
        return member_no
    raw_cursor = request.query_params.get("cursor")
    cursor = positive_id(raw_cursor) if raw_cursor else None
    if raw_cursor and cursor is None:
        return _bad_request(visit, BAD_CURSOR)
    events, last = await queries.paid_events_of_member(s.db, member_no, cursor, PAGE_SIZE)
    pending = await queries.open_cancel_lines(s.db, [e.order_id for e in events])
    orders = [order_view(e, pending.get(e.order_id, set())) for e in events]
    notice = await _notice(s, request, member_no)
    pending_cancel = any(o.cancel_pending for o in orders) or (notice is not None and notice.kind == "pending")
    # While a cancel awaits the PSP's word the page reads itself again — by its URL without the #fragment the
    # redirect added (a refresh to the same URL with a fragment would only scroll).
    refresh = f"{request.url.path}?{request.url.query}" if pending_cancel else None
    return render(
        visit, "my_orders.html", member_no=member_no, orders=orders, cursor=cursor, next_cursor=last, notice=notice,
        refresh=refresh,
    )  # fmt: skip


@router.post("/my/orders/cancel", response_class=HTMLResponse)
async def cancel_from_page(request: Request, s: OrderServicesDep, visit: PageVisitDep) -> Response:
    """Cancel the lines the form names, as the cancel API would, for the logged-in member's own order, then back
    to 내 주문 with the outcome (303)."""
    form = await read_form(request)
    if form is None or not form_is_ours(request, visit, form):
        return not_from_here(visit)
    member_no = _member(visit)
    if isinstance(member_no, Response):
        return member_no
    order_id, raw_cursor = field(form, "orderId"), field(form, "cursor")
    line_nos = [positive_id(raw) for raw in form.get("paymentOrderNo", [])]
    numbers = [n for n in line_nos if n is not None]
    if not ORDER_ID_PATTERN.match(order_id) or not numbers or len(numbers) != len(line_nos):
        return _bad_request(visit)
    if len(numbers) > 100 or (raw_cursor and positive_id(raw_cursor) is None):
        return _bad_request(visit)
    back: dict[str, str | int] = {**({"cursor": raw_cursor} if raw_cursor else {}), "orderId": order_id}
    try:
        payment = await queries.payment_of_order(s.db, order_id)
        if payment.member_no != member_no:  # another member's order: as unknown, nothing cancelled
            raise AppError(OrderError.ORDER_NOT_FOUND)
        await s.count("cancel", member_no)
        result = await s.cancel_payment(order_id, CANCEL_REASON, numbers)
    except AppError as error:
        back["error"] = error.code.code
        lines = error.params.get("lines")
        if isinstance(lines, list) and lines:
            back["lines"] = ",".join(str(n) for n in lines)
    else:
        back["cancelNo"] = result.cancel.cancel_no
    return RedirectResponse(f"/my/orders?{urlencode(back)}#order-{order_id}", status_code=303)
