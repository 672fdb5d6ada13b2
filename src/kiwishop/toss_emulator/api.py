"""The Toss Payments API (``/v1``): confirm, lookup by paymentKey or orderId, cancel (toss.md A1, A6).

Requests go through ``pipeline.answer`` (auth, test codes, faults, idempotency). Bodies are read by hand,
not by pydantic, so that every error is a Toss ``{code, message}`` with Toss's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from kiwishop.toss_emulator import domain
from kiwishop.toss_emulator.domain import Payment
from kiwishop.toss_emulator.errors import TossError, TossFailure
from kiwishop.toss_emulator.pipeline import EmulatorDep, answer

router = APIRouter(prefix="/v1/payments", tags=["Toss API"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Toss error {code, message}"},
    401: {"description": "UNAUTHORIZED_KEY"},
    403: {
        "description": "INCORRECT_BASIC_AUTH_FORMAT, FORBIDDEN_REQUEST, NOT_CANCELABLE_*, FORBIDDEN_CONSECUTIVE_REQUEST"
    },
    404: {"description": "NOT_FOUND_PAYMENT, NOT_FOUND_PAYMENT_SESSION"},
    409: {"description": "IDEMPOTENT_REQUEST_PROCESSING"},
    500: {"description": "FAILED_INTERNAL_SYSTEM_PROCESSING, …: an injected fault or a forced TossPayments-Test-Code"},
}
# Bodies and headers are read by hand (see above), so they are documented here, for clients and the fuzz tests.
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "the first response is replayed for 15 days",
    "schema": {"type": "string", "minLength": 1, "maxLength": domain.MAX_IDEMPOTENCY_KEY},
}
_AMOUNT = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": domain.MAX_AMOUNT}, {"type": "string"}]}


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_CONFIRM_DOC = {
    "parameters": [_IDEMPOTENCY_KEY],
    "requestBody": _json_body(
        {
            "paymentKey": {"type": "string", "minLength": 1, "maxLength": domain.MAX_PAYMENT_KEY},
            "orderId": {"type": "string", "minLength": 1},
            "amount": _AMOUNT,
        },
        ["paymentKey", "orderId", "amount"],
    ),
}
_CANCEL_DOC = {
    "parameters": [_IDEMPOTENCY_KEY],
    "requestBody": _json_body(
        {
            "cancelReason": {"type": "string", "minLength": 1, "maxLength": domain.MAX_CANCEL_REASON},
            "cancelAmount": _AMOUNT,
            "refundableAmount": _AMOUNT,
        },
        ["cancelReason"],
    ),
}


@dataclass(frozen=True)
class ConfirmIn:
    payment_key: str
    order_id: str
    amount: int


@dataclass(frozen=True)
class CancelIn:
    reason: str
    amount: int | None
    refundable: int | None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise TossFailure(TossError.INVALID_REQUEST)
    return body


def parse_confirm(body: Any) -> ConfirmIn:
    fields = _object(body)
    payment_key, order_id = fields.get("paymentKey"), fields.get("orderId")
    amount = domain.parse_amount(fields.get("amount"))
    if not isinstance(payment_key, str) or not 1 <= len(payment_key) <= domain.MAX_PAYMENT_KEY:
        raise TossFailure(TossError.INVALID_REQUEST)
    if not isinstance(order_id, str) or not order_id or amount is None:
        raise TossFailure(TossError.INVALID_REQUEST)
    return ConfirmIn(payment_key, order_id, amount)


def _optional_amount(fields: dict[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    amount = domain.parse_amount(value)
    if amount is None:
        raise TossFailure(TossError.INVALID_REQUEST)
    return amount


def parse_cancel(body: Any) -> CancelIn:
    fields = _object(body)
    reason = fields.get("cancelReason")
    if not domain.is_text(reason) or not 1 <= len(reason.strip()) <= domain.MAX_CANCEL_REASON:
        raise TossFailure(TossError.INVALID_REQUEST)
    return CancelIn(
        reason.strip(), _optional_amount(fields, "cancelAmount"), _optional_amount(fields, "refundableAmount")
    )


@router.post(
    "/confirm", summary="Confirm (승인) an authorised payment", responses=_RESPONSES, openapi_extra=_CONFIRM_DOC
)
async def confirm(request: Request, emulator: EmulatorDep) -> Response:
    with emulator.transaction():
        emulator.stats.confirm_requests += 1

    def use_case(body: ConfirmIn) -> Payment:
        return emulator.confirm(body.payment_key, body.order_id, body.amount)

    return await answer(request, emulator, use_case, parse_confirm)


@router.get("/orders/{orderId}", summary="The payment of an orderId", responses=_RESPONSES)
async def by_order(request: Request, orderId: str, emulator: EmulatorDep) -> Response:
    return await answer(request, emulator, lambda _: emulator.by_order(orderId))


@router.get("/{paymentKey}", summary="A payment by its paymentKey", responses=_RESPONSES)
async def by_key(request: Request, paymentKey: str, emulator: EmulatorDep) -> Response:
    return await answer(request, emulator, lambda _: emulator.by_key(paymentKey))


@router.post(
    "/{paymentKey}/cancel", summary="Cancel all or part of a payment", responses=_RESPONSES, openapi_extra=_CANCEL_DOC
)
async def cancel(request: Request, paymentKey: str, emulator: EmulatorDep) -> Response:
    with emulator.transaction():
        emulator.stats.cancel_requests += 1

    def use_case(body: CancelIn) -> Payment:
        return emulator.cancel(paymentKey, body.reason, body.amount, body.refundable)

    return await answer(request, emulator, use_case, parse_cancel)
