"""A ``Payment`` as JSON text and back, for the state file: every field, exactly.

Times are ISO-8601 with their microseconds and offset (an aware UTC time comes back equal, still aware);
errors are kept by member name, not by Toss code, since two members share the code ``INVALID_REQUEST``.
Stdlib only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from typing import Any

from kiwishop.toss_emulator.domain import Cancel, Payment, PaymentStatus
from kiwishop.toss_emulator.errors import TossError


def payment_to_text(p: Payment) -> str:
    return json.dumps(
        {
            "paymentKey": p.payment_key,
            "orderId": p.order_id,
            "orderName": p.order_name,
            "amount": p.amount,
            "cardDigits": p.card_digits,
            "requestedAt": _time(p.requested_at),
            "status": p.status.value,
            "balance": p.balance,
            "approvedAt": _time(p.approved_at) if p.approved_at is not None else None,
            "approveNo": p.approve_no,
            "lastTransactionKey": p.last_transaction_key,
            "failure": p.failure.name if p.failure is not None else None,
            "cancels": [_cancel_json(c) for c in p.cancels],
            "confirmErrors": [error.name for error in p.confirm_errors],
        },
        separators=(",", ":"),
    )


def payment_from_text(text: str) -> Payment:
    """The payment ``payment_to_text`` wrote; ``ValueError`` when the text is not one."""
    try:
        return _payment(json.loads(text))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored payment: {exc!r}") from exc


def _payment(raw: dict[str, Any]) -> Payment:
    payment = Payment(
        payment_key=_str(raw["paymentKey"]),
        order_id=_str(raw["orderId"]),
        order_name=_str(raw["orderName"]),
        amount=_int(raw["amount"]),
        card_digits=_str(raw["cardDigits"]),
        requested_at=_parse_time(raw["requestedAt"]),
        status=PaymentStatus(raw["status"]),
        approved_at=None if raw["approvedAt"] is None else _parse_time(raw["approvedAt"]),
        approve_no=_optional_str(raw["approveNo"]),
        last_transaction_key=_optional_str(raw["lastTransactionKey"]),
        failure=None if raw["failure"] is None else _error(raw["failure"]),
        cancels=[_cancel(c) for c in raw["cancels"]],
        confirm_errors=deque(_error(name) for name in raw["confirmErrors"]),
    )
    payment.balance = _int(raw["balance"])  # after __post_init__, which starts the balance at the amount
    return payment


def _cancel_json(c: Cancel) -> dict[str, Any]:
    return {
        "amount": c.amount,
        "reason": c.reason,
        "canceledAt": _time(c.canceled_at),
        "transactionKey": c.transaction_key,
        "balanceAfter": c.balance_after,
    }


def _cancel(raw: dict[str, Any]) -> Cancel:
    return Cancel(
        amount=_int(raw["amount"]),
        reason=_str(raw["reason"]),
        canceled_at=_parse_time(raw["canceledAt"]),
        transaction_key=_str(raw["transactionKey"]),
        balance_after=_int(raw["balanceAfter"]),
    )


def _time(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _parse_time(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(_str(value))


def _error(name: object) -> TossError:
    try:
        return TossError[_str(name)]
    except KeyError as exc:
        raise ValueError(f"unknown Toss error {name!r}") from exc


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value
