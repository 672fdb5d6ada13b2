"""Emulator controls for tests and load drills (no auth; not part of Toss's API).

- ``POST /emulator/payments`` ``{orderId, amount, orderName, cardNumber?, cardExpiry?, confirmErrors?}``:
  the window without a browser → 201 ``{paymentKey, orderId, amount}``, or the decline as a Toss error.
- ``GET|PUT /emulator/faults``: latency, fault rates and hang time at run time (partial PUT).
- ``GET /emulator/stats``, ``POST /emulator/reset``, ``POST /emulator/clock`` ``{"advanceS": n}``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from kiwishop.platform.errors import language
from kiwishop.platform.web import JSONResponse
from kiwishop.toss_emulator import domain
from kiwishop.toss_emulator.emulator import AuthoriseRequest
from kiwishop.toss_emulator.errors import TossError, TossFailure
from kiwishop.toss_emulator.pipeline import EmulatorDep, error_response

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
    }
    return JSONResponse({**emulator.stats.as_json(), **sizes})


@router.post("/reset", status_code=204, summary="Forget every payment, stored response and counter")
async def reset(emulator: EmulatorDep) -> Response:
    emulator.reset()
    return Response(status_code=204)


@router.post("/clock", summary="Move the emulator's clock forward (confirm deadline, expiry, idempotency TTL)")
async def advance_clock(body: ClockIn, emulator: EmulatorDep) -> JSONResponse:
    emulator.clock_offset += dt.timedelta(seconds=body.advanceS)
    return JSONResponse({"now": emulator.now().isoformat(), "offsetS": emulator.clock_offset.total_seconds()})
