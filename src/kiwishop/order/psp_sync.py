"""What a payment read at the PSP (after a webhook) says about changes the shop did not make: an approval it never
confirmed, cancels made outside it (Toss's console). Standard library only.

A webhook's body is never trusted: the handler reads the payment at the PSP and only moves the order forward.
A cancel made outside the shop gives back an amount, not lines: the lines it took are found by their sum — every
line left when the PSP's balance is 0, else the one set of remaining lines whose sum is that amount. When no set,
or more than one, adds up to it, the shop cannot tell which lines went back, and a person decides.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kiwishop.order.domain import Line, PaymentStatus
from kiwishop.order.verdicts import parse_psp_time

MAX_LINES_SEARCHED = 12  # 4096 sets of lines at most; more lines left: a person decides


@dataclass(frozen=True)
class PspRead:
    """The payment as the PSP reports it now: ``payment`` (the Payment object), or None with ``in_doubt`` when the
    PSP could not be asked (else it knows no such payment)."""

    payment: dict[str, Any] | None
    in_doubt: bool = False


@dataclass(frozen=True)
class PspCancels:
    """The cancels of a payment at the PSP, in sum."""

    canceled: Decimal  # totalAmount - balanceAmount
    balance: Decimal
    reason: str  # the last cancel's
    canceled_at: dt.datetime | None  # the last cancel's, UTC


def psp_cancels(payment: dict[str, Any]) -> PspCancels | None:
    """None when the amounts are not numbers."""
    cancels = payment.get("cancels")
    last = cancels[-1] if isinstance(cancels, list) and cancels and isinstance(cancels[-1], dict) else {}
    try:
        total, balance = Decimal(str(payment.get("totalAmount"))), Decimal(str(payment.get("balanceAmount")))
    except (ArithmeticError, InvalidOperation):
        return None
    if not total.is_finite() or not balance.is_finite():
        return None
    reason = str(last.get("cancelReason") or "canceled at the PSP")
    return PspCancels(total - balance, balance, reason, parse_psp_time(last.get("canceledAt")))


def lines_for(amount: Decimal, lines: list[Line], *, everything: bool) -> list[Line] | None:
    """The paid lines a cancel of ``amount`` made outside the shop took back; None when it can't be told."""
    left = [line for line in lines if line.status is PaymentStatus.SUCCESS]
    if everything:
        return left if left and sum((line.amount for line in left), Decimal(0)) == amount else None
    if len(left) > MAX_LINES_SEARCHED:
        return None
    found = [
        list(chosen)
        for size in range(1, len(left) + 1)
        for chosen in itertools.combinations(left, size)
        if sum((line.amount for line in chosen), Decimal(0)) == amount
    ]
    return found[0] if len(found) == 1 else None
