"""Emulator controls for tests and load drills (not part of Toss's API).

- ``POST /emulator/payments`` ``{orderId, amount, orderName, cardNumber?, cardExpiry?, confirmErrors?}``:
  the window without a browser → 201 ``{paymentKey, orderId, amount}``, or the decline as a Toss error
  (503 EMULATOR_FULL when every payment it may keep is in progress, ``bounds``). No token, like the window.
- ``GET|PUT /emulator/faults``: latency, fault rates and hang time at run time (partial PUT).
- ``GET /emulator/stats``, ``POST /emulator/reset``, ``POST /emulator/clock`` ``{"advanceS": n}``.
- Changes at the PSP without the shop, each with its webhook: ``POST /emulator/payments/{paymentKey}/cancel-outside``
  ``{cancelReason?, cancelAmount?}`` (a cancel in Toss's console) and ``…/approve-outside`` (approved, but the
  confirm's answer never reached the shop) → 200 with the Payment object, or the Toss error.

Every route but the first (``locked``) asks for ``Authorization: Bearer <admin_token>``, compared in constant
time: none (or another scheme) → 401 ADMIN_TOKEN_REQUIRED, another token → 403 ADMIN_TOKEN_INVALID, checked
before anything else is done. Whoever reaches the emulator could otherwise turn faults on for everyone,
forget every payment, move the clock past every deadline, or approve and cancel payments at will.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from kiwishop.platform.errors import AppError, language
from kiwishop.platform.web import JSONResponse
from kiwishop.toss_emulator import domain
from kiwishop.toss_emulator.emulator import AuthoriseRequest
from kiwishop.toss_emulator.errors import EmulatorError, TossError, TossFailure
from kiwishop.toss_emulator.pipeline import EmulatorDep, error_response
from kiwishop.toss_emulator.wire import payment_json

_ADMIN_401 = "ADMIN_TOKEN_REQUIRED: no `Authorization: Bearer <admin token>`"
_ADMIN_403 = "ADMIN_TOKEN_INVALID: another token"
ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {401: {"description": _ADMIN_401}, 403: {"description": _ADMIN_403}}


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def require_admin(request: Request, emulator: EmulatorDep) -> None:
    """The caller holds the admin token; compared as digests, so neither its content nor its length shows
    in the time taken."""
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AppError(EmulatorError.ADMIN_TOKEN_REQUIRED, headers={"WWW-Authenticate": "Bearer"})
    expected = emulator.settings.admin_token.get_secret_value()
    if not hmac.compare_digest(_digest(token.strip()), _digest(expected)):
        raise AppError(EmulatorError.ADMIN_TOKEN_INVALID)


router = APIRouter(prefix="/emulator", tags=["emulator controls"])
locked = APIRouter(
    prefix="/emulator",
    tags=["emulator controls"],
    dependencies=[Depends(require_admin)],
    responses=ADMIN_RESPONSES,
)


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
    403: {"description": f"{_ADMIN_403}; or NOT_CANCELABLE_PAYMENT, NOT_CANCELABLE_AMOUNT"},
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
        503: {"description": "EMULATOR_FULL: every payment it may keep is still in progress (Retry-After)"},
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


@locked.get("/faults", summary="The current fault injection settings")
async def get_faults(emulator: EmulatorDep) -> JSONResponse:
    return JSONResponse(emulator.faults.config.as_json())


@locked.put("/faults", summary="Change fault injection at run time (only the fields given)")
async def put_faults(body: FaultsIn, emulator: EmulatorDep) -> JSONResponse:
    faults = emulator.faults
    changed = replace(faults.config, **body.model_dump(exclude_none=True))
    problem = changed.problem()
    if problem is not None:
        return JSONResponse({"code": "INVALID_REQUEST", "message": problem}, status_code=400)
    faults.config = changed
    return JSONResponse(changed.as_json())


@locked.get("/stats", summary="Counters since start or the last reset, and the sizes of the stores")
async def stats(emulator: EmulatorDep) -> JSONResponse:
    sizes = {
        "payments": len(emulator.payments),
        "storedResponses": len(emulator.idempotency),
        "inFlight": emulator.idempotency.in_flight,
        "webhooksPending": len(emulator.webhooks.deliveries),
    }
    return JSONResponse({**emulator.stats.as_json(), **sizes})


@locked.post(
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


@locked.post(
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


@locked.post("/reset", status_code=204, summary="Forget every payment, stored response, webhook and counter")
async def reset(emulator: EmulatorDep) -> Response:
    emulator.reset()
    return Response(status_code=204)


@locked.post("/clock", summary="Move the emulator's clock forward (confirm deadline, expiry, idempotency TTL)")
async def advance_clock(body: ClockIn, emulator: EmulatorDep) -> JSONResponse:
    emulator.clock_offset += dt.timedelta(seconds=body.advanceS)
    return JSONResponse({"now": emulator.now().isoformat(), "offsetS": emulator.clock_offset.total_seconds()})
