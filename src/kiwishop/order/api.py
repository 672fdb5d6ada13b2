"""JSON routes of order (8080): checkout, confirm, cancel, payment result, order read APIs O5–O7.

Who may (``platform.auth``; checked before anything is written or the PSP is asked): checkout and confirm are
the buyer's own (a member token; the body's memberNo, the confirmed order's buyer); cancel and the reads of one
order are its buyer's or ops'; a member's history (O6, O7) is that member's or ops', and shows the PSP's
paymentKey to ops only. The webhook stays anonymous: the PSP calls it, and its body is only a hint that is
read again at the PSP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kiwishop.order import queries
from kiwishop.order.cancellation import CancelResult, CancelStatus, refusal_error
from kiwishop.order.domain import PAID, Payment, PaymentStatus
from kiwishop.order.handlers.checkout import checkout
from kiwishop.order.schemas import (
    CancelIn,
    CancelOut,
    CheckoutIn,
    CheckoutOut,
    ConfirmIn,
    OrderId,
    PaymentEventListOut,
    PaymentEventOut,
    PaymentOrderLineOut,
    PaymentOrderListOut,
    PaymentResultOut,
    WebhookIn,
    WebhookOut,
)
from kiwishop.order.services import OrderServices, OrderServicesDep
from kiwishop.platform.auth import AUTH_RESPONSES, AnyPrincipal, MemberPrincipal, require_member
from kiwishop.platform.deps import LanguageDep, PageLimit
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import AuthError, Principal, Role
from kiwishop.platform.openapi import UNAVAILABLE, Responses
from kiwishop.platform.params import MAX_ID, next_cursor
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
# Every route reads or writes the database (through OrderServicesDep), so every one can answer 503.
TOO_MANY: Responses = {
    429: {"description": "this member's limit of such requests per window is used up (TOO_MANY_REQUESTS): "
          "Retry-After says when to try again; nothing was done"},
}  # fmt: skip
CHECKOUT_ERRORS: Responses = {
    **AUTH_RESPONSES,
    **TOO_MANY,
    403: {"description": "not a member's token, or the body's memberNo is not the token's member (AUTH0002)"},
    400: {"description": "invalid body, unknown products (PEC0001) or a total that is not whole won (PEC0003)"},
    503: {"description": "catalog (PEC0007) or the database cannot be reached right now; retry"},
}
CONFIRM_ERRORS: Responses = {
    **UNAVAILABLE,
    **AUTH_RESPONSES,
    **TOO_MANY,
    403: {"description": "not a member's token, or the order is another member's (AUTH0002): the PSP is not asked"},
    202: {"description": "in doubt, being resolved: poll GET /api/payments/{orderId}"},
    400: {
        "description": "declined (FAILURE: the PSP's code and message, and the payment's fields with `failure`), "
        "an amount that is not the order's total (PEC0002), or an invalid body"
    },
    404: {"description": "unknown order (PEC0004)"},
    409: {
        "description": "another confirm of this order is still running (PEC0005), or the paymentKey is not this "
        "order's (PEC0006)"
    },
}
CANCEL_ERRORS: Responses = {
    **UNAVAILABLE,
    **AUTH_RESPONSES,
    **TOO_MANY,
    403: {"description": "neither the order's buyer nor ops (AUTH0002): nothing is cancelled"},
    202: {"description": "in doubt at the PSP, being resolved: send the same request again, or poll "
          "GET /api/payments/{orderId}"},
    400: {"description": "lines that are not the order's, repeated or none (PEC0014), a sum that is not whole won "
          "(PEC0003), or an invalid body"},
    404: {"description": "unknown order (PEC0004)"},
    409: {"description": "the order is not paid (PEC0012), another cancel of it is in progress (PEC0013), lines "
          "already cancelled mixed with others (PEC0019), or the PSP refused (PEC0015–PEC0017; `failure` has its "
          "code)"},
    502: {"description": "the PSP refused the cancel request (PEC0018; `failure` has its code); nothing was cancelled"},
}  # fmt: skip


async def order_of_caller(s: OrderServices, principal: Principal, order_id: str) -> Payment:
    """The order, when the caller is its buyer or ops: 403 for anyone else (a seller before the order is even
    looked up), 404 (PEC0004) for an unknown order."""
    if principal.role not in (Role.MEMBER, Role.OPS):
        raise AppError(AuthError.FORBIDDEN)
    payment = await queries.payment_of_order(s.db, order_id)
    require_member(principal, payment.member_no)
    return payment


def caller_key(principal: Principal) -> int | str:
    """Whose limit a request counts against: the member's, or (an ops cancel) that operator's."""
    return principal.member_no if principal.member_no is not None else f"{principal.role}:{principal.subject}"


def result_response(result: PaymentResultOut) -> JSONResponse:
    """200 paid (SUCCESS, or cancelled since); 202 while the PSP's answer is in doubt (poll GET
    /api/payments/{orderId}); 400 FAILURE."""
    if result.status in PAID:
        return model_response(result)
    if result.status is PaymentStatus.FAILURE:
        failure = result.failure
        body = {"code": failure.code if failure else "PAYMENT_FAILED", "message": failure.message if failure else ""}
        return JSONResponse({**body, **result.model_dump()}, status_code=400)
    return model_response(result, status_code=202)


@router.post("/api/checkout", status_code=201, response_model=CheckoutOut, responses=CHECKOUT_ERRORS)
async def create_checkout(body: CheckoutIn, s: OrderServicesDep, principal: MemberPrincipal) -> JSONResponse:
    if body.memberNo != principal.member_no:  # a member orders for themself only
        raise AppError(AuthError.FORBIDDEN)
    await s.count("checkout", body.memberNo)
    result = await checkout(s.store, s.catalog, s.ids, member_no=body.memberNo, product_nos=body.productNoList)
    out = CheckoutOut(
        paymentEventNo=result.payment_event_no, orderId=result.order_id, orderName=result.order_name,
        amount=result.amount,
    )  # fmt: skip
    return model_response(out, status_code=201)


@router.post("/api/payments/confirm", response_model=PaymentResultOut, responses=CONFIRM_ERRORS)
async def confirm_payment(
    body: ConfirmIn, s: OrderServicesDep, lang: LanguageDep, principal: MemberPrincipal
) -> JSONResponse:
    await s.count("confirm", caller_key(principal))
    # the buyer's own order, checked under the order's lock in confirm's first transaction (404 unknown, 403
    # another's) — one read of the order fewer; a refused confirm counts toward the caller's limit too
    payment = await s.confirm_payment(body.paymentKey, body.orderId, body.amount, buyer=principal.member_no)
    return result_response(PaymentResultOut.of(payment, lang))


@router.post("/api/payments/{orderId}/cancel", response_model=CancelOut, responses=CANCEL_ERRORS)
async def cancel_payment(
    orderId: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{6,64}$")], body: CancelIn, s: OrderServicesDep,
    lang: LanguageDep, principal: AnyPrincipal,
) -> JSONResponse:  # fmt: skip
    await order_of_caller(s, principal, orderId)
    await s.count("cancel", caller_key(principal))
    result = await s.cancel_payment(orderId, body.cancelReason, body.paymentOrderNos)
    return cancel_response(result, lang)


def cancel_response(result: CancelResult, lang: str) -> JSONResponse:
    """200 DONE (with the order's lines and amounts); 202 while the PSP's word is awaited; FAILED: the order's code
    for the PSP's refusal, with the cancel's fields and the PSP's code in ``failure``."""
    out = CancelOut.of(result, lang)
    if result.cancel.status is CancelStatus.DONE:
        return model_response(out)
    if result.cancel.status is CancelStatus.FAILED:
        error = refusal_error(result.cancel.failure_code)
        body = {"code": error.code, "message": error.message(lang, {"psp_code": result.cancel.failure_code})}
        return JSONResponse({**body, **out.model_dump()}, status_code=error.status)
    return model_response(out, status_code=202)


WEBHOOK_ERRORS: Responses = {
    **UNAVAILABLE,
    409: {"description": "a cancel of this order is in progress (PEC0013): nothing changed, send it again later"},
    503: {"description": "the PSP cannot be asked about the payment right now (PEC0011) or the database is down: "
          "nothing changed, send it again later"},
}  # fmt: skip
HANDLED_EVENTS = ("PAYMENT_STATUS_CHANGED",)


@router.post("/api/webhooks/toss", response_model=WebhookOut, responses=WEBHOOK_ERRORS)
async def toss_webhook(body: WebhookIn, s: OrderServicesDep) -> JSONResponse:
    """A hint from the PSP that a payment changed: the payment is read again at the PSP, and the order moves only
    forward on that word. 200 whatever it led to (an unknown order included); a bad body is a 400."""
    result = "IGNORED"
    if body.eventType in HANDLED_EVENTS:
        result = await s.sync_from_psp(body.data.orderId, body.data.paymentKey, hinted=body.data.status)
    return model_response(WebhookOut(eventType=body.eventType, orderId=body.data.orderId, result=result))


ONE_ORDER: Responses = {
    **UNAVAILABLE,
    **AUTH_RESPONSES,
    403: {"description": "neither the order's buyer nor ops (AUTH0002)"},
    404: {"description": "unknown order (PEC0004)"},
}
MEMBERS_OWN: Responses = {
    **UNAVAILABLE,
    **AUTH_RESPONSES,
    403: {"description": "neither this member nor ops (AUTH0002)"},
}


@router.get("/api/payments/{orderId}", response_model=PaymentResultOut, responses=ONE_ORDER)
async def payment_result(
    orderId: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{6,64}$")], s: OrderServicesDep, lang: LanguageDep,
    principal: AnyPrincipal,
) -> JSONResponse:  # fmt: skip
    payment = await order_of_caller(s, principal, orderId)
    return model_response(PaymentResultOut.of(payment, lang))


@router.get("/api/orders", response_model=PaymentOrderListOut, responses=ONE_ORDER)
async def order_lines(
    orderId: Annotated[OrderId, Query()], s: OrderServicesDep, principal: AnyPrincipal
) -> JSONResponse:
    if principal.role not in (Role.MEMBER, Role.OPS):
        raise AppError(AuthError.FORBIDDEN)
    buyer, lines = await queries.lines_of_order(s.db, orderId)
    require_member(principal, buyer)
    return model_response(PaymentOrderListOut(paymentOrderList=[PaymentOrderLineOut(**line) for line in lines]))


@router.get("/api/orders/members/{memberNo}", response_model=PaymentEventListOut, responses=MEMBERS_OWN)
async def member_orders(
    memberNo: Id,
    s: OrderServicesDep,
    principal: AnyPrincipal,
    paymentEventNo: Annotated[int | None, Query(ge=1, le=MAX_ID, description="cursor: the last one seen")] = None,
    limit: PageLimit = 10,
) -> JSONResponse:
    """O6. A member's answer has ``paymentKey`` null (the PSP's key is for ops)."""
    require_member(principal, memberNo)
    events, last = await queries.paid_events_of_member(s.db, memberNo, paymentEventNo, limit)
    show_key = principal.role is Role.OPS
    page = PaymentEventListOut(
        paymentEventList=[PaymentEventOut.of(e, show_key=show_key) for e in events], nextCursor=next_cursor(last)
    )
    return model_response(page)


@router.get(
    "/api/orders/payment-events/{paymentEventNo}/members/{memberNo}",
    response_model=PaymentEventOut,
    responses={**MEMBERS_OWN, 404: {"description": "no such payment event of this member (PEC0008)"}},
)
async def member_order(paymentEventNo: Id, memberNo: Id, s: OrderServicesDep, principal: AnyPrincipal) -> JSONResponse:
    """O7. A member's answer has ``paymentKey`` null (the PSP's key is for ops)."""
    require_member(principal, memberNo)
    payment = await queries.event_of_member(s.db, paymentEventNo, memberNo)
    return model_response(PaymentEventOut.of(payment, show_key=principal.role is Role.OPS))
