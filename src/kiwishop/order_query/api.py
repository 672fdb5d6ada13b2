"""Q1 and Q2: order's O6/O7 routes and shapes, answered from the read model; and the seller sales (the original
V1's ``GET /api/orders/sellers/{sellerNo}``).

Who may, as at order: a member's history and orders are that member's (paymentKey null) or ops'; a seller's
sales are that seller's or ops'. A miss asks order with the caller's own token (``ports.Caller``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from kiwishop.order_query.ports import Caller
from kiwishop.order_query.queries import OrderReads
from kiwishop.order_query.schemas import PaymentEventListOut, PaymentEventOut, SellerSalesOut
from kiwishop.platform.auth import AUTH_RESPONSES, AnyPrincipal, require_member, require_seller
from kiwishop.platform.deps import PageLimit, app_state
from kiwishop.platform.identity import Principal, Role
from kiwishop.platform.openapi import Responses
from kiwishop.platform.params import MAX_ID

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
ReadsDep = Annotated[OrderReads, Depends(app_state("reads", OrderReads))]
JSON = "application/json"
HISTORY_PATH = "/api/orders/members/{memberNo}"
UNAVAILABLE: Responses = {
    503: {"description": "Redis (SERVICE_UNAVAILABLE) or order, for what Redis lacks (OQ0001), cannot answer now"}
}
MEMBERS_OWN: Responses = {
    **UNAVAILABLE,
    **AUTH_RESPONSES,
    403: {"description": "neither this member nor ops (AUTH0002)"},
}


def caller_of(request: Request, principal: Principal) -> Caller:
    """The verified caller, with the header a miss forwards to order (``platform.auth`` checked it is Bearer)."""
    return Caller(authorization=request.headers.get("authorization", ""), sees_keys=principal.role is Role.OPS)


@router.get(HISTORY_PATH, response_model=PaymentEventListOut, responses=MEMBERS_OWN)
async def member_orders(
    memberNo: Id,
    reads: ReadsDep,
    request: Request,
    principal: AnyPrincipal,
    paymentEventNo: Annotated[int | None, Query(ge=1, le=MAX_ID, description="cursor: the last one seen")] = None,
    limit: PageLimit = 10,
) -> Response:
    """The member's paid orders, newest first; the next page starts below ``paymentEventNo``. A member's answer
    has ``paymentKey`` null (the PSP's key is for ops)."""
    require_member(principal, memberNo)
    caller = caller_of(request, principal)
    return Response(await reads.history(memberNo, paymentEventNo, limit, caller), media_type=JSON)


@router.get(
    "/api/orders/payment-events/{paymentEventNo}/members/{memberNo}",
    response_model=PaymentEventOut,
    responses={**MEMBERS_OWN, 404: {"description": "no such payment event of this member (PEC0008)"}},
)
async def member_order(
    paymentEventNo: Id, memberNo: Id, reads: ReadsDep, request: Request, principal: AnyPrincipal
) -> Response:
    """One order of the member, any status; 404 when it does not exist or is another member's. A member's answer
    has ``paymentKey`` null."""
    require_member(principal, memberNo)
    return Response(await reads.detail(paymentEventNo, memberNo, caller_of(request, principal)), media_type=JSON)


@router.get(
    "/api/orders/sellers/{sellerNo}",
    response_model=SellerSalesOut,
    responses={
        **AUTH_RESPONSES,
        403: {"description": "neither this seller nor ops (AUTH0002)"},
        503: {"description": "Redis cannot answer now (SERVICE_UNAVAILABLE)"},
    },
)
async def seller_sales(sellerNo: Id, reads: ReadsDep, principal: AnyPrincipal) -> Response:
    """The seller's sales by product: paid, canceled and the net ``amount``, ascending ``amount`` (then
    ``productNo``); an empty list for a seller nothing was sold for."""
    require_seller(principal, sellerNo)
    return Response(await reads.seller_sales(sellerNo), media_type=JSON)
