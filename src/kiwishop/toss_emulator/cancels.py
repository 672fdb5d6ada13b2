"""Cancels (toss.md A6): which cancel Toss refuses, how much one takes back, and how it changes the payment
(PARTIAL_CANCELED, or CANCELED at balance 0; one ``Cancel`` entry each). Stdlib only.

The checks, in order (each raises ``TossFailure`` with Toss's code and status):
1. ALREADY_CANCELED_PAYMENT (400): the payment is CANCELED.
2. NOT_CANCELABLE_PAYMENT (403): it was never approved (IN_PROGRESS, ABORTED, EXPIRED), or it has
   ``max_cancels`` cancels already (the emulator's cap: each cancel makes the Payment object longer).
3. FORBIDDEN_CONSECUTIVE_REQUEST (403): less than ``interval_s`` (Toss: a second) after the payment's last cancel:
   of two cancels within a second only the first is processed. Transient: never stored for an
   ``Idempotency-Key``, so a retry with the same key after the interval executes.
4. NOT_MATCHES_REFUNDABLE_AMOUNT (400): ``refundableAmount`` given and not the balance.
5. NOT_CANCELABLE_AMOUNT (403): more than the balance. No amount: the whole balance.
"""

from __future__ import annotations

import datetime as dt

from kiwishop.toss_emulator.domain import Cancel, Payment, PaymentStatus
from kiwishop.toss_emulator.errors import TossError, TossFailure

CANCELABLE = (PaymentStatus.DONE, PaymentStatus.PARTIAL_CANCELED)


def cancel_amount(
    payment: Payment,
    requested: int | None,
    refundable: int | None,
    now: dt.datetime | None = None,
    interval_s: float = 0.0,
    max_cancels: int | None = None,
) -> int:
    """How much this cancel takes back, after the checks; without ``now``, check 3 is skipped (cancels made
    at the PSP, not over the API)."""
    if payment.status is PaymentStatus.CANCELED:
        raise TossFailure(TossError.ALREADY_CANCELED_PAYMENT)
    if payment.status not in CANCELABLE or (max_cancels is not None and len(payment.cancels) >= max_cancels):
        raise TossFailure(TossError.NOT_CANCELABLE_PAYMENT)
    if now is not None and too_soon(payment, now, interval_s):
        raise TossFailure(TossError.FORBIDDEN_CONSECUTIVE_REQUEST, transient=True)
    if refundable is not None and refundable != payment.balance:
        raise TossFailure(TossError.NOT_MATCHES_REFUNDABLE_AMOUNT)
    amount = payment.balance if requested is None else requested
    if amount > payment.balance:
        raise TossFailure(TossError.NOT_CANCELABLE_AMOUNT)
    return amount


def too_soon(payment: Payment, now: dt.datetime, interval_s: float) -> bool:
    """The payment's last cancel was less than ``interval_s`` before ``now``."""
    return bool(payment.cancels) and (now - payment.cancels[-1].canceled_at).total_seconds() < interval_s


def apply_cancel(payment: Payment, amount: int, reason: str, now: dt.datetime, transaction_key: str) -> None:
    payment.balance -= amount
    payment.status = PaymentStatus.CANCELED if payment.balance == 0 else PaymentStatus.PARTIAL_CANCELED
    payment.last_transaction_key = transaction_key
    payment.cancels.append(Cancel(amount, reason, now, transaction_key, payment.balance))
