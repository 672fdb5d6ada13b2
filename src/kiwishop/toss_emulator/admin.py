"""Emulator controls for tests and load drills (no auth; not part of Toss's API).

- ``POST /emulator/payments`` ``{orderId, amount, orderName, cardNumber?, cardExpiry?, confirmErrors?}``:
  the window without a browser → 201 ``{paymentKey, orderId, amount}``, or the decline as a Toss error.
- ``GET|PUT /emulator/faults``: latency, fault rates and hang time at run time (partial PUT).
- ``GET /emulator/stats``, ``POST /emulator/reset``, ``POST /emulator/clock`` ``{"advanceS": n}``.
- Changes at the PSP without the shop, each with its webhook: ``POST /emulator/payments/{paymentKey}/cancel-outside``
  ``{cancelReason?, cancelAmount?}`` (a cancel in Toss's console) and ``…/approve-outside`` (approved, but the
  confirm's answer never reached the shop) → 200 with the Payment object, or the Toss error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from kiwishop.platform.errors import language
from kiwishop.platform.web import JSONResponse
from kiwishop.toss_emulator import domain
from kiwishop.toss_emulator.emulator import AuthoriseRequest
from kiwishop.toss_emulator.errors import TossError, TossFailure
from kiwishop.toss_emulator.pipeline import EmulatorDep, error_response
from kiwishop.toss_emulator.wire import payment_json

router = APIRouter(prefix="/emulator", tags=["emulator controls"])


class AuthoriseIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    orderId: Any = None
    amount: Any = None
    orderName: Any = None
    cardNumber: str = domain.APPROVING_CARD
    cardExpiry: str | None = None
    confirmErrors: list[str] = Field(default_factory=list, max_length=100)


class FaultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latencyMsMin: int | None = Field(default=None, ge=0, le=600_000)
    latencyMsMax: int | None = Field(default=None, ge=0, le=600_000)
    fault5xxRate: float | None = Field(default=None, ge=0.0, le=1.0)
    faultTimeoutRate: float | None = Field(default=None, ge=0.0, le=1.0)
    faultDropRate: float | None = Field(default=None, ge=0.0, le=1.0)
    hangS: float | None = Field(default=None, ge=0.0, le=3600.0)
    faultLookups: bool | None = None


class CancelOutsideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cancelReason: str = Field(default="상점 관리자 취소", min_length=1, max_length=domain.MAX_CANCEL_REASON)
    cancelAmount: int | None = Field(default=None, ge=1, le=domain.MAX_AMOUNT)


_OUTSIDE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "ALREADY_CANCELED_PAYMENT, ALREADY_PROCESSED_PAYMENT, PAY_PROCESS_ABORTED, a bad body"},
    403: {"description": "NOT_CANCELABLE_PAYMENT, NOT_CANCELABLE_AMOUNT"},
    404: {"description": "NOT_FOUND_PAYMENT; NOT_FOUND_PAYMENT_SESSION past the confirm deadline"},
}


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advanceS: float = Field(ge=0.0, le=366 * 24 * 3600.0)


def _confirm_errors(codes: list[str]) -> list[TossError]:
    errors = [TossError.of(code) for code in codes]
    if any(error is None for error in errors):
        raise TossFailure(TossError.INVALID_REQUEST)
    return [error for error in errors if error is not None]


@router.post(
    "/payments",
    status_code=201,
    summary="Authorise a payment as the window would (no browser)",
    responses={
        400: {"description": "a bad order or card (INVALID_ORDER_ID, INVALID_CARD_NUMBER, …), as the window says"},
        403: {"description": "the card company declines (REJECT_CARD_COMPANY)"},
    },
)
async def authorise(request: Request, body: AuthoriseIn, emulator: EmulatorDep) -> Response:
    try:
        order_id, order_name, amount = domain.check_order(body.orderId, body.orderName, body.amount)
        order = AuthoriseRequest(
            order_id=order_id,
            order_name=order_name,
            amount=amount,
            card_number=body.cardNumber,
            card_expiry=body.cardExpiry,
            confirm_errors=_confirm_errors(body.confirmErrors),
        )
        payment = emulator.authorise(order)
    except TossFailure as failure:
        return error_response(failure.error, language(request.headers.get("accept-language")))
    return JSONResponse(
        {"paymentKey": payment.payment_key, "orderId": payment.order_id, "amount": payment.amount}, status_code=201
    )


@router.get("/faults", summary="The current fault injection settings")
async def get_faults(emulator: EmulatorDep) -> JSONResponse:
    return JSONResponse(emulator.faults.config.as_json())


@router.put("/faults", summary="Change fault injection at run time (only the fields given)")
async def put_faults(body: FaultsIn, emulator: EmulatorDep) -> JSONResponse:
    faults = emulator.faults
    changed = replace(faults.config, **body.model_dump(exclude_none=True))
    problem = changed.problem()
    if problem is not None:
        return JSONResponse({"code": "INVALID_REQUEST", "message": problem}, status_code=400)
    faults.config = changed
    return JSONResponse(changed.as_json())


@router.get("/stats", summary="Counters since start or the last reset, and the sizes of the stores")
async def stats(emulator: EmulatorDep) -> JSONResponse:
    sizes = {
        "payments": len(emulator.payments),
        "storedResponses": len(emulator.idempotency),
        "inFlight": emulator.idempotency.in_flight,
        "webhooksPending": len(emulator.webhooks.deliveries),
    }
    return JSONResponse({**emulator.stats.as_json(), **sizes})


@router.post(
    "/payments/{paymentKey}/cancel-outside",
    summary="Cancel all or part of a payment at the PSP, without the shop (sends the webhook)",
    responses=_OUTSIDE_RESPONSES,
)
async def cancel_outside(
    request: Request, paymentKey: str, emulator: EmulatorDep, body: Annotated[CancelOutsideIn | None, Body()] = None
) -> Response:
    lang = language(request.headers.get("accept-language"))
    given = body or CancelOutsideIn()
    reason = given.cancelReason.strip()
    if not domain.is_text(reason) or not reason:
        return error_response(TossError.INVALID_REQUEST, lang)
    try:
        payment = emulator.cancel_outside(paymentKey, reason, given.cancelAmount)
    except TossFailure as failure:
        return error_response(failure.error, lang)
    return JSONResponse(payment_json(payment, lang))


@router.post(
    "/payments/{paymentKey}/approve-outside",
    summary="Approve an authorised payment at the PSP as if the confirm's answer was lost (sends the webhook)",
    responses=_OUTSIDE_RESPONSES,
)
async def approve_outside(request: Request, paymentKey: str, emulator: EmulatorDep) -> Response:
    lang = language(request.headers.get("accept-language"))
    try:
        payment = emulator.approve_outside(paymentKey)
    except TossFailure as failure:
        return error_response(failure.error, lang)
    return JSONResponse(payment_json(payment, lang))


@router.post("/reset", status_code=204, summary="Forget every payment, stored response, webhook and counter")
async def reset(emulator: EmulatorDep) -> Response:
    emulator.reset()
    return Response(status_code=204)


@router.post("/clock", summary="Move the emulator's clock forward (confirm deadline, expiry, idempotency TTL)")
async def advance_clock(body: ClockIn, emulator: EmulatorDep) -> JSONResponse:
    emulator.clock_offset += dt.timedelta(seconds=body.advanceS)
    return JSONResponse({"now": emulator.now().isoformat(), "offsetS": emulator.clock_offset.total_seconds()})
