"""The read model of one payment event, and its rules. Stdlib only.

A read model has exactly the fields and key order of order's O7 response (``PaymentEventOut``):
``paymentEventNo, memberNo, orderId, paymentKey, orderName, method, type, approvedDateTime,
paymentOrderList[paymentOrderNo, productNo, amount, status, productName], paymentDone``. It is built
either from a PAYMENT_CONFIRM payload (which carries the state after the update, and more fields:
``totalAmount``, each line's ``sellerNo``) or from an event of order's O6/O7 answers.

Only paid events (``paymentDone`` true, every line SUCCESS) enter the read model. SUCCESS is terminal in
order, so the first paid model written for a paymentEventNo is final: a later write for the same number
(a re-delivered or re-published PAYMENT_CONFIRM, or a refill from order) carries the same facts and is
dropped, and no unpaid state can ever replace a paid one.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from kiwishop.platform.errors import ErrorCode
from kiwishop.platform.params import MAX_ID

ID_DIGITS = len(str(MAX_ID))  # 19: ids are zero-padded to this width so that text order is number order
CENTS = Decimal("0.01")


class OrderQueryError(ErrorCode):
    PAYMENT_EVENT_NOT_FOUND = ("PEC0008", 404, "결제 내역이 존재하지 않습니다.", "No such payment.")
    ORDER_UNAVAILABLE = (
        "OQ0001",
        503,
        "주문 내역을 지금 가져올 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "Order history is unavailable right now; try again shortly.",
    )


class InvalidEvent(ValueError):
    """A payment event that cannot become a read model (wrong shape, or not paid)."""


def pad(number: int) -> str:
    """A paymentEventNo as a fixed-width string, the member of a Redis index."""
    return f"{number:0{ID_DIGITS}d}"


def _id(raw: dict[str, Any], name: str) -> int:
    value = raw.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise InvalidEvent(f"{name} must be a positive 64-bit integer, got {value!r}")
    return value


def _text(raw: dict[str, Any], name: str, *, nullable: bool = False) -> str | None:
    value = raw.get(name)
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{name} must be a non-empty string, got {value!r}")
    return value


def _money(raw: dict[str, Any], name: str) -> Decimal:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise InvalidEvent(f"{name} must be a decimal number, got {value!r}")
    try:
        amount = Decimal(value).quantize(CENTS)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidEvent(f"{name} must be a decimal number, got {value!r}") from exc
    if not amount.is_finite():
        raise InvalidEvent(f"{name} must be finite")
    return amount


def _line(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidEvent("every paymentOrderList entry must be an object")
    status = _text(raw, "status")
    if status != "SUCCESS":
        raise InvalidEvent(f"a paid order has only SUCCESS lines, got {status!r}")
    return {
        "paymentOrderNo": _id(raw, "paymentOrderNo"),
        "productNo": _id(raw, "productNo"),
        "amount": _money(raw, "amount"),
        "status": status,
        "productName": _text(raw, "productName"),
    }


def paid_read_model(raw: dict[str, Any]) -> dict[str, Any]:
    """The read model of a paid payment event, in O7's key order; InvalidEvent when it is not one."""
    if raw.get("paymentDone") is not True:
        raise InvalidEvent("only paid payment events (paymentDone true) enter the read model")
    lines = raw.get("paymentOrderList")
    if not isinstance(lines, list) or not lines:
        raise InvalidEvent("paymentOrderList must be a non-empty list")
    return {
        "paymentEventNo": _id(raw, "paymentEventNo"),
        "memberNo": _id(raw, "memberNo"),
        "orderId": _text(raw, "orderId"),
        "paymentKey": _text(raw, "paymentKey", nullable=True),
        "orderName": _text(raw, "orderName"),
        "method": _text(raw, "method"),
        "type": _text(raw, "type"),
        "approvedDateTime": _text(raw, "approvedDateTime", nullable=True),
        "paymentOrderList": [_line(line) for line in lines],
        "paymentDone": True,
    }


def is_paid(raw: Any) -> bool:
    return isinstance(raw, dict) and raw.get("paymentDone") is True


def page_floor(events_fetched: int, fetch_limit: int, last_number: int | None) -> int:
    """What an O6 page proves about a member's history below its cursor: a full page proves that every
    paid event between its last number and the cursor is known, so that number is the new floor; a short
    page reached the end of the history, so the floor is 0 (complete down to the first order)."""
    if events_fetched >= fetch_limit and last_number is not None:
        return last_number
    return 0
