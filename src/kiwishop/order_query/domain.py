"""The read model of one payment event, and its rules. Stdlib only.

A read model has exactly the fields and key order of order's O7 response (``PaymentEventOut``):
``paymentEventNo, memberNo, orderId, paymentKey, orderName, method, type, approvedDateTime,
paymentOrderList[paymentOrderNo, productNo, amount, status, productName], paymentDone`` — and, once a line
is canceled, ``orderStatus`` and ``canceledAmount`` after them (``summarized``). It is built either from a
PAYMENT_CONFIRM payload (which carries the state after the update, and more fields: ``totalAmount``, each
line's ``sellerNo``) or from an event of order's O6/O7 answers.

Only paid events (``paymentDone`` true, every line SUCCESS — or CANCELED: paid, then given back) enter the
read model. The first paid model written for a paymentEventNo is final but for cancels: a later write for the
same number (a re-delivered or re-published PAYMENT_CONFIRM, or a refill from order) is dropped, no unpaid
state can ever replace a paid one, and a line only ever moves SUCCESS → CANCELED (PAYMENT_CANCELED, applied
in Redis by ``render`` in ``lua.COMMON``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kiwishop.platform.errors import ErrorCode
from kiwishop.platform.params import MAX_ID

ID_DIGITS = len(str(MAX_ID))  # 19: ids are zero-padded to this width so that text order is number order
CENTS = Decimal("0.01")
SUCCESS, CANCELED, PARTIAL_CANCELED = "SUCCESS", "CANCELED", "PARTIAL_CANCELED"
PAID_LINE_STATUSES = (SUCCESS, CANCELED)  # a paid order's lines: paid, or paid and given back since
SUMMARY_FIELDS = ("orderStatus", "canceledAmount")  # a canceled order's fields, after ``paymentDone``


class OrderQueryError(ErrorCode):
    PAYMENT_EVENT_NOT_FOUND = ("PEC0008", 404, "결제 내역이 존재하지 않습니다.", "No such payment.")
    ORDER_UNAVAILABLE = (
        "OQ0001",
        503,
        "주문 내역을 지금 가져올 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "Order history is unavailable right now; try again shortly.",
    )


# Stored JSON is compact and escapes every quote inside a string, so this can only be the field itself.
_PAYMENT_KEY = re.compile(rb'"paymentKey":"(?:[^"\\]|\\.)*"')


KEYLESS = b'"paymentKey":null'  # a model stored from a member's view (or a page with one): not ops' answer


def hide_payment_keys(body: bytes) -> bytes:
    """A member's view of stored JSON (a model, or a page of them): every ``paymentKey`` null, as order shows
    it to members. The PSP's key is for ops; the read model keeps it for them."""
    return _PAYMENT_KEY.sub(b'"paymentKey":null', body)


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
    if status not in PAID_LINE_STATUSES:
        raise InvalidEvent(f"a paid order has only SUCCESS or CANCELED lines, got {status!r}")
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
    model = {
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
    return summarized(model)


def summarized(model: dict[str, Any]) -> dict[str, Any]:
    """The model with its cancel summary, from its lines: with a CANCELED line, ``orderStatus``
    (PARTIAL_CANCELED, or CANCELED when every line is) and ``canceledAmount`` (their sum) follow
    ``paymentDone``; without one, O7's fields alone. ``render`` (``lua.COMMON``) writes the same bytes in Redis."""
    summary = {name: value for name, value in model.items() if name not in SUMMARY_FIELDS}
    lines = summary["paymentOrderList"]
    canceled = [line["amount"] for line in lines if line["status"] == CANCELED]
    if canceled:
        summary["orderStatus"] = CANCELED if len(canceled) == len(lines) else PARTIAL_CANCELED
        summary["canceledAmount"] = sum(canceled, Decimal("0.00"))
    return summary


def with_cancels(model: dict[str, Any], canceled: set[int]) -> dict[str, Any]:
    """The model with the lines numbered in ``canceled`` CANCELED (what ``render`` in ``lua.COMMON`` does in Redis)."""
    lines = [
        {**line, "status": CANCELED} if line["paymentOrderNo"] in canceled else line
        for line in model["paymentOrderList"]
    ]
    return summarized({**model, "paymentOrderList": lines})


@dataclass(frozen=True)
class SoldLine:
    """A paid line as the seller sales count it: amounts in integer minor units (cents)."""

    seller_no: int
    product_no: int
    cents: int
    product_name: str | None = None


@dataclass(frozen=True)
class CanceledLine:
    payment_order_no: int
    line: SoldLine


@dataclass(frozen=True)
class Cancel:
    """What order-query reads of a PAYMENT_CANCELED: the order and its lines canceled by this cancel."""

    payment_event_no: int
    member_no: int
    lines: tuple[CanceledLine, ...]


def cents(amount: Decimal) -> int:
    return int(amount.quantize(CENTS) * 100)


def sold_lines(raw: dict[str, Any]) -> list[SoldLine]:
    """Every line of a PAYMENT_CONFIRM that ``paid_read_model`` accepted (SUCCESS or CANCELED: all were paid),
    for the seller sales; InvalidEvent for a line without its seller."""
    return [
        SoldLine(_id(line, "sellerNo"), line["productNo"], cents(_money(line, "amount")), line["productName"])
        for line in raw["paymentOrderList"]
    ]


def parse_cancel(raw: dict[str, Any]) -> Cancel:
    """A PAYMENT_CANCELED payload's order and lines (each canceled whole, for a positive amount; ``cancelAmount``
    their sum, as wallet requires too); InvalidEvent when it is not one. ``orderStatus`` is not read: the model
    derives it from its lines, so cancels applied in any order agree."""
    lines = raw.get("lines")
    if not isinstance(lines, list) or not lines or not all(isinstance(line, dict) for line in lines):
        raise InvalidEvent("lines must be a non-empty list of objects")
    parsed = []
    for line in lines:
        amount = _money(line, "amount")
        if amount <= 0 or amount != Decimal(str(line["amount"])):
            raise InvalidEvent(f"a canceled line gives back a positive amount in won and cents, got {line['amount']}")
        sold = SoldLine(_id(line, "sellerNo"), _id(line, "productNo"), cents(amount))
        parsed.append(CanceledLine(_id(line, "paymentOrderNo"), sold))
    if len({line.payment_order_no for line in parsed}) != len(parsed):
        raise InvalidEvent("a cancel names each paymentOrderNo once")
    if cents(_money(raw, "cancelAmount")) != sum(line.line.cents for line in parsed):
        raise InvalidEvent("cancelAmount must be the sum of the canceled lines")
    _text(raw, "orderId")  # the order it cancels, as wallet requires (the model is found by member and number)
    return Cancel(_id(raw, "paymentEventNo"), _id(raw, "memberNo"), tuple(parsed))


def is_paid(raw: Any) -> bool:
    return isinstance(raw, dict) and raw.get("paymentDone") is True


def page_floor(events_fetched: int, fetch_limit: int, last_number: int | None) -> int:
    """What an O6 page proves about a member's history below its cursor: a full page proves that every
    paid event between its last number and the cursor is known, so that number is the new floor; a short
    page reached the end of the history, so the floor is 0 (complete down to the first order)."""
    if events_fetched >= fetch_limit and last_number is not None:
        return last_number
    return 0
