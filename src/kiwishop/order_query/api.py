"""Q1 and Q2: order's O6/O7 routes and shapes, answered from the read model; and the seller sales (the original
V1's ``GET /api/orders/sellers/{sellerNo}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from kiwishop.order_query.queries import OrderReads
from kiwishop.order_query.schemas import PaymentEventListOut, PaymentEventOut, SellerSalesOut
from kiwishop.platform.deps import PageLimit, app_state
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


@router.get(HISTORY_PATH, response_model=PaymentEventListOut, responses=UNAVAILABLE)
async def member_orders(
    memberNo: Id,
    reads: ReadsDep,
    paymentEventNo: Annotated[int | None, Query(ge=1, le=MAX_ID, description="cursor: the last one seen")] = None,
    limit: PageLimit = 10,
) -> Response:
    """The member's paid orders, newest first; the next page starts below ``paymentEventNo``."""
    return Response(await reads.history(memberNo, paymentEventNo, limit), media_type=JSON)


@router.get(
    "/api/orders/payment-events/{paymentEventNo}/members/{memberNo}",
    response_model=PaymentEventOut,
    responses={**UNAVAILABLE, 404: {"description": "no such payment event of this member (PEC0008)"}},
)
async def member_order(paymentEventNo: Id, memberNo: Id, reads: ReadsDep) -> Response:
    """One order of the member, any status; 404 when it does not exist or is another member's."""
    return Response(await reads.detail(paymentEventNo, memberNo), media_type=JSON)


@router.get(
    "/api/orders/sellers/{sellerNo}",
    response_model=SellerSalesOut,
    responses={503: {"description": "Redis cannot answer now (SERVICE_UNAVAILABLE)"}},
)
async def seller_sales(sellerNo: Id, reads: ReadsDep) -> Response:
    """The seller's sales by product: paid, canceled and the net ``amount``, ascending ``amount`` (then
    ``productNo``); an empty list for a seller nothing was sold for."""
    return Response(await reads.seller_sales(sellerNo), media_type=JSON)
