"""Cancel rules: giving a paid order's lines back at the PSP. Standard library only.

A cancel takes back whole lines of a paid order; its amount is the sum of those lines (a client never sends
an amount). An order's cancels are numbered 1, 2, …; each has one Idempotency-Key at the PSP,
``cancel-{orderId}-{cancelNo}``, for every attempt, so any number of attempts give the money back at most once
(the PSP replays its first answer).

A cancel moves ``EXECUTING`` (asked, with a lease) → ``DONE`` (the PSP says cancelled: its lines become
CANCELED, PAYMENT_CANCELED goes out) | ``FAILED`` (the PSP refused: nothing changed) | ``UNKNOWN`` (no word yet:
asked again with the same key, with per-cancel backoff; never decided by a count of attempts).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kiwishop.contracts.events import PAYMENT_CANCELED, PaymentCanceledV1
from kiwishop.order.domain import Event, OrderError, Payment, PaymentStatus, seoul_iso
from kiwishop.order.verdicts import parse_psp_time

MAX_REASON = 200  # Toss's limit on cancelReason


class CancelStatus(enum.StrEnum):
    EXECUTING = "EXECUTING"  # being asked at the PSP; ``next_attempt_at`` is the lease (past it: taken over)
    UNKNOWN = "UNKNOWN"  # the PSP's answer is in doubt: asked again at ``next_attempt_at``
    DONE = "DONE"  # the PSP cancelled it: its lines are CANCELED
    FAILED = "FAILED"  # the PSP refused it: nothing was given back, the lines are unchanged


OPEN = (CancelStatus.EXECUTING, CancelStatus.UNKNOWN)  # not decided yet: one at a time per order


@dataclass
class Cancel:
    """One cancel of an order, as stored (``payment_cancels`` and its lines)."""

    order_id: str
    cancel_no: int
    payment_event_no: int
    payment_key: str
    lines: dict[int, Decimal]  # paymentOrderNo → amount of each line it gives back, ascending
    amount: Decimal  # their sum
    reason: str
    status: CancelStatus
    next_attempt_at: dt.datetime | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    attempts: int = 0  # answers in doubt so far (informative only: never decides anything)
    in_doubt_since: dt.datetime | None = None
    canceled_at: dt.datetime | None = None  # the PSP's canceledAt, UTC
    psp_balance: Decimal | None = None  # the PSP's balanceAmount after it
    event_id: int | None = None  # its PAYMENT_CANCELED
    created_at: dt.datetime | None = None

    @property
    def idempotency_key(self) -> str:
        return cancel_key(self.order_id, self.cancel_no)

    @property
    def line_nos(self) -> list[int]:
        return sorted(self.lines)


def cancel_key(order_id: str, cancel_no: int) -> str:
    return f"cancel-{order_id}-{cancel_no}"


class Outcome(enum.Enum):
    DONE = "done"  # cancelled at the PSP
    REFUSED = "refused"  # a definitive refusal: nothing was cancelled
    IN_DOUBT = "in_doubt"  # no answer, 5xx, an unknown code, an answer that doesn't show our cancel


@dataclass(frozen=True)
class CancelAnswer:
    """What one answer of the PSP to a cancel proves."""

    outcome: Outcome
    code: str | None = None
    message: str | None = None
    canceled_at: dt.datetime | None = None  # UTC, naive
    balance: Decimal | None = None

    @classmethod
    def done(cls, canceled_at: dt.datetime | None, balance: Decimal | None) -> CancelAnswer:
        return cls(Outcome.DONE, canceled_at=canceled_at, balance=balance)

    @classmethod
    def refused(cls, code: str, message: str) -> CancelAnswer:
        return cls(Outcome.REFUSED, code, message)

    @classmethod
    def in_doubt(cls, code: str, message: str) -> CancelAnswer:
        return cls(Outcome.IN_DOUBT, code, message)


# Refusals: the PSP's word that nothing was cancelled (toss.md A4 cancel-side codes, and request/config errors).
REFUSAL_CODES = frozenset(
    {
        "ALREADY_CANCELED_PAYMENT", "NOT_CANCELABLE_AMOUNT", "NOT_CANCELABLE_PAYMENT", "NOT_ALLOWED_PARTIAL_REFUND",
        "EXCEED_MAX_REFUND_DUE", "INVALID_REFUND_ACCOUNT_INFO", "NOT_MATCHES_REFUNDABLE_AMOUNT", "NOT_FOUND_PAYMENT",
        "INVALID_REQUEST", "INVALID_API_KEY", "UNAUTHORIZED_KEY", "FORBIDDEN_REQUEST", "INCORRECT_BASIC_AUTH_FORMAT",
        "INVALID_IDEMPOTENCY_KEY",
    }
)  # fmt: skip
_REFUSAL_ERRORS = {
    "NOT_CANCELABLE_AMOUNT": OrderError.CANCEL_AMOUNT_REFUSED,
    "NOT_MATCHES_REFUNDABLE_AMOUNT": OrderError.CANCEL_AMOUNT_REFUSED,
    "ALREADY_CANCELED_PAYMENT": OrderError.ALREADY_CANCELED_AT_PSP,
    "NOT_CANCELABLE_PAYMENT": OrderError.CANCEL_NOT_ALLOWED,
    "NOT_ALLOWED_PARTIAL_REFUND": OrderError.CANCEL_NOT_ALLOWED,
    "EXCEED_MAX_REFUND_DUE": OrderError.CANCEL_NOT_ALLOWED,
}


def is_refusal(http_status: int, code: str | None) -> bool:
    """A 4xx with a code that says nothing was cancelled; 5xx, 429, unknown codes and the like are in doubt."""
    return 400 <= http_status < 500 and http_status != 429 and code in REFUSAL_CODES


def refusal_error(psp_code: str | None) -> OrderError:
    """The order's error code for a cancel the PSP refused with ``psp_code``."""
    return _REFUSAL_ERRORS.get(psp_code or "", OrderError.CANCEL_REFUSED)


def judge_cancel(payment: dict[str, Any] | None, payment_key: str, amount: Decimal) -> CancelAnswer:
    """A 200 answer to our cancel: the Payment, PARTIAL_CANCELED or CANCELED, whose last cancel is ours."""
    if payment is None:
        return CancelAnswer.in_doubt("PSP_MALFORMED", "the PSP answered 200 with a body that is not a payment")
    status = payment.get("status")
    if payment.get("paymentKey") != payment_key or status not in ("PARTIAL_CANCELED", "CANCELED"):
        return CancelAnswer.in_doubt("PSP_NOT_CANCELED", f"the PSP answered a payment that is {status}")
    cancels = payment.get("cancels") or []
    last = cancels[-1] if isinstance(cancels, list) and cancels and isinstance(cancels[-1], dict) else {}
    try:
        canceled = Decimal(str(last.get("cancelAmount")))
        balance = Decimal(str(payment.get("balanceAmount")))
    except (ArithmeticError, InvalidOperation):
        return CancelAnswer.in_doubt("PSP_MALFORMED", "cancelAmount or balanceAmount is not a number")
    if canceled != amount:
        return CancelAnswer.in_doubt("PSP_CANCEL_MISMATCH", f"the PSP's last cancel is {canceled}, ours is {amount}")
    return CancelAnswer.done(parse_psp_time(last.get("canceledAt")), balance)


@dataclass(frozen=True)
class CancelResult:
    """The order (its lines as stored) and one of its cancels: what a cancel request is answered with."""

    payment: Payment
    cancel: Cancel
    changed: list[int] = field(default_factory=list)  # lines this call moved (empty: a stored result)

    @property
    def refunded(self) -> Decimal:
        return sum((line.amount for line in self.payment.lines if line.status is PaymentStatus.CANCELED), Decimal(0))

    @property
    def refundable(self) -> Decimal:
        return sum((line.amount for line in self.payment.lines if line.status is PaymentStatus.SUCCESS), Decimal(0))


def canceled_payload(payment: Payment, cancel: Cancel) -> PaymentCanceledV1:
    """PAYMENT_CANCELED (contracts/events.py), from the rows after the cancel's lines moved."""
    chosen = set(cancel.line_nos)
    return {
        "paymentEventNo": payment.payment_event_no,
        "memberNo": payment.member_no,
        "orderId": payment.order_id,
        "paymentKey": payment.payment_key or cancel.payment_key,
        "cancelNo": cancel.cancel_no,
        "cancelReason": cancel.reason,
        "canceledDateTime": seoul_iso(cancel.canceled_at),
        "cancelAmount": cancel.amount,
        "lines": [
            {
                "paymentOrderNo": line.payment_order_no,
                "productNo": line.product_no,
                "sellerNo": line.seller_no,
                "amount": line.amount,
            }
            for line in payment.lines
            if line.payment_order_no in chosen
        ],
        "orderStatus": str(payment.status),
    }


def payment_canceled(payment: Payment, cancel: Cancel) -> Event:
    """PAYMENT_CANCELED of a DONE cancel, under its recorded ``event_id`` (one per cancel)."""
    return Event(
        type=PAYMENT_CANCELED.name,
        key=payment.order_id,
        payload=dict(canceled_payload(payment, cancel)),
        idempotency_key=f"{PAYMENT_CANCELED.name}:{payment.order_id}:{cancel.cancel_no}",
        event_id=cancel.event_id,
    )
