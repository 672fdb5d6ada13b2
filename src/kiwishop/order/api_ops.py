"""Order's ops routes (the console's payments; ops tokens only): the orders in doubt, quarantined and not yet
settled, and the two actions a person may take on one in doubt — ask the PSP again now, or cancel the payment
at the PSP (``handlers/ops.py``). Each action is recorded in the order's history as ``ops:<subject>``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kiwishop.order import ops_reads, queries
from kiwishop.order.domain import IN_DOUBT, OrderError
from kiwishop.order.handlers.ops import OpsOutcome
from kiwishop.order.schemas import OpsActionOut, OpsCancelIn, OpsPaymentOut, OpsPaymentsOut
from kiwishop.order.services import OrderServicesDep
from kiwishop.platform.auth import AUTH_RESPONSES, OpsPrincipal
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import Principal
from kiwishop.platform.openapi import UNAVAILABLE, Responses
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter()
ORDER_ID = r"^[A-Za-z0-9_-]{6,64}$"
READ_ERRORS: Responses = {**UNAVAILABLE, **AUTH_RESPONSES, 403: {"description": "not an ops token (AUTH0002)"}}
ACTION_ERRORS: Responses = {
    **READ_ERRORS,
    404: {"description": "unknown order (PEC0004)"},
    409: {"description": "the order is not in doubt (PEC0020), or a confirm or recovery of it is running (PEC0021); "
          "nothing was done"},
}  # fmt: skip


def actor(principal: Principal) -> str:
    return f"ops:{principal.subject}"[:255]


@router.get("/api/ops/payments", response_model=OpsPaymentsOut, responses=READ_ERRORS)
async def payments_to_watch(
    s: OrderServicesDep, _: OpsPrincipal, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> JSONResponse:
    found = await ops_reads.ops_payments(s.db, limit)
    rows = {"inDoubt": found.in_doubt, "quarantined": found.quarantined, "unsettled": found.unsettled}
    listed = {name: [OpsPaymentOut(**row) for row in values] for name, values in rows.items()}
    return model_response(OpsPaymentsOut(counts=found.counts, **listed))


@router.post("/api/ops/payments/{orderId}/recheck", response_model=OpsActionOut, responses=ACTION_ERRORS)
async def recheck(
    s: OrderServicesDep, principal: OpsPrincipal, orderId: Annotated[str, Path(pattern=ORDER_ID)]
) -> JSONResponse:
    payment = await queries.payment_of_order(s.db, orderId)
    return _answer(orderId, await s.ops.recheck(payment, actor=actor(principal)))


@router.post("/api/ops/payments/{orderId}/cancel-at-psp", response_model=OpsActionOut, responses=ACTION_ERRORS)
async def cancel_at_psp(
    s: OrderServicesDep, principal: OpsPrincipal, orderId: Annotated[str, Path(pattern=ORDER_ID)], body: OpsCancelIn
) -> JSONResponse:
    payment = await queries.payment_of_order(s.db, orderId)
    return _answer(orderId, await s.ops.cancel_at_psp(payment, actor=actor(principal), reason=body.reason))


def _answer(order_id: str, outcome: OpsOutcome) -> JSONResponse:
    if outcome.payment is None:
        if outcome.before in IN_DOUBT:
            raise AppError(OrderError.BEING_WORKED_ON)
        raise AppError(OrderError.NOT_IN_DOUBT, status=outcome.before.value)
    after = outcome.payment.status
    return model_response(OpsActionOut(orderId=order_id, before=outcome.before, status=after, pspStatus=outcome.psp))
