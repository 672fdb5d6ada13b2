"""Wallet rules: reading a paid order and a cancel of its lines, what gets credited (debited) to whom (exact
Decimal), the messages exchanged with seller and order (docs/events.md), and paging. Standard library only."""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kiwishop.contracts.events import WalletCreatedV1, WalletCreationFailedV1, WalletSettledV1
from kiwishop.platform.errors import AppError, ErrorCode
from kiwishop.platform.params import MAX_ID

CENT = Decimal("0.01")
MAX_LINE_AMOUNT = Decimal("9999999999999.99")
MAX_ORDER_ID_LENGTH = 200  # settle:{orderId}:{paymentOrderNo} fits the 255-character idempotency key

REFERENCE_PAYMENT_ORDER = "PAYMENT_ORDER"
CREDIT = "CREDIT"
DEBIT = "DEBIT"
SUCCESS = "SUCCESS"
CANCELED = "CANCELED"  # the status of a line read from PAYMENT_CANCELED


class WalletError(ErrorCode):
    WALLET_NOT_FOUND = ("WLT0001", 404, "판매자의 지갑이 존재하지 않습니다.", "The seller has no wallet.")
    INVALID_LIMIT = (
        "WLT0002",
        400,
        "limit 은 1 이상 {max} 이하의 숫자여야 합니다.",
        "limit must be a number from 1 to {max}.",
    )
    INVALID_CURSOR = ("WLT0003", 400, "cursor 값이 올바르지 않습니다.", "The cursor is invalid.")


class InvalidPayload(ValueError):
    """An event no retry can fix: it goes to the dead-letter topic at once."""


@dataclass(frozen=True)
class PaymentLine:
    payment_order_no: int
    seller_no: int
    amount: Decimal
    status: str


@dataclass(frozen=True)
class PaidOrder:
    order_id: str
    lines: tuple[PaymentLine, ...]

    def credited_lines(self) -> list[PaymentLine]:
        """Only SUCCESS lines reach a wallet (W7)."""
        return [line for line in self.lines if line.status == SUCCESS]


def credit_key(order_id: str, payment_order_no: int) -> str:
    return f"settle:{order_id}:{payment_order_no}"


def debit_key(order_id: str, payment_order_no: int) -> str:
    return f"debit:{order_id}:{payment_order_no}"


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """Decimal sum that raises instead of rounding (W3)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[decimal.Inexact] = True
        return sum(amounts, Decimal("0.00")).quantize(CENT)


def totals_by_seller(lines: Iterable[PaymentLine]) -> dict[int, Decimal]:
    """Sum per seller number (never per wallet number: W1), ascending seller number."""
    grouped: dict[int, list[Decimal]] = defaultdict(list)
    for line in lines:
        grouped[line.seller_no].append(line.amount)
    return {seller_no: exact_sum(grouped[seller_no]) for seller_no in sorted(grouped)}


def split_for_settlement(
    order: PaidOrder, with_wallet: Collection[int], credited: Collection[str]
) -> tuple[list[PaymentLine], list[PaymentLine]]:
    """The order's SUCCESS lines as (held, to credit): a line whose seller has no wallet is held; a line
    already credited (its key is in ``credited``) is neither — it never counts twice (W4)."""
    lines = order.credited_lines()
    held = [line for line in lines if line.seller_no not in with_wallet]
    to_credit = [
        line for line in lines
        if line.seller_no in with_wallet and credit_key(order.order_id, line.payment_order_no) not in credited
    ]  # fmt: skip
    return held, to_credit


@dataclass(frozen=True)
class LockedWallet:
    """A wallet as read under its row lock: the balance update checks that ``version`` has not moved."""

    wallet_no: int
    version: int


@dataclass(frozen=True)
class HeldLine:
    """A paid line held for a seller who had no wallet; credited later with the same ``key``."""

    key: str
    order_id: str
    line: PaymentLine


def settled_payload(order: PaidOrder, held_sellers: set[int] | None = None) -> WalletSettledV1:
    """WALLET_SETTLED: the order's total per seller — ``sellers`` credited, ``held`` waiting for the seller's
    wallet (credited as soon as it exists). Either way wallet has taken the money over from order."""
    totals = totals_by_seller(order.credited_lines())
    held = held_sellers or set()
    return {
        "orderId": order.order_id,
        "sellers": [{"sellerNo": s, "amount": a} for s, a in totals.items() if s not in held],
        "held": [{"sellerNo": s, "amount": a} for s, a in totals.items() if s in held],
    }


def _int(raw: Mapping[str, Any], name: str) -> int:
    value = raw.get(name)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise InvalidPayload(f"{name} must be a positive integer, got {value!r}")
    return value


def parse_amount(value: Any, name: str = "amount") -> Decimal:
    """A JSON number with at most two decimals, 0 ≤ amount ≤ MAX_LINE_AMOUNT; never a float."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidPayload(f"{name} must be a JSON number, got {value!r}")
    amount = Decimal(value)
    if not amount.is_finite() or amount != amount.quantize(CENT, rounding=decimal.ROUND_DOWN):
        raise InvalidPayload(f"{name} must have at most two decimals, got {value!r}")
    if not 0 <= amount <= MAX_LINE_AMOUNT:
        raise InvalidPayload(f"{name} out of range: {value!r}")
    return amount.quantize(CENT)


def _line(raw: Any) -> PaymentLine:
    if not isinstance(raw, dict):
        raise InvalidPayload("every paymentOrderList element must be an object")
    status = raw.get("status")
    if not isinstance(status, str) or not status:
        raise InvalidPayload(f"status must be a string, got {status!r}")
    return PaymentLine(_int(raw, "paymentOrderNo"), _int(raw, "sellerNo"), parse_amount(raw.get("amount")), status)


def _order_id(payload: Mapping[str, Any]) -> str:
    order_id = payload.get("orderId")
    if not isinstance(order_id, str) or not 0 < len(order_id) <= MAX_ORDER_ID_LENGTH:
        raise InvalidPayload(f"orderId must be a string of 1..{MAX_ORDER_ID_LENGTH} characters")
    return order_id


def _distinct(lines: tuple[PaymentLine, ...]) -> tuple[PaymentLine, ...]:
    if len({line.payment_order_no for line in lines}) != len(lines):
        raise InvalidPayload("paymentOrderNo values must be distinct")
    return lines


def parse_payment_confirm(payload: dict[str, Any]) -> PaidOrder:
    """PAYMENT_CONFIRM v1 (docs/events.md). Rejects what could credit the wrong amount or the wrong seller."""
    order_id = _order_id(payload)
    raw_lines = payload.get("paymentOrderList")
    if not isinstance(raw_lines, list):
        raise InvalidPayload("paymentOrderList must be a list")
    order = PaidOrder(order_id, _distinct(tuple(_line(raw) for raw in raw_lines)))
    # Only an event that says what the PSP approved is credited: a payload without ``totalAmount`` (a forged or
    # truncated one — order always sends it) is parked, never credited; nor are lines beyond the approved total.
    if "totalAmount" not in payload:
        raise InvalidPayload("totalAmount is missing: the approved amount must come with the lines")
    approved = parse_amount(payload["totalAmount"], "totalAmount")
    credited = exact_sum(line.amount for line in order.credited_lines())
    if credited > approved:
        raise InvalidPayload(f"SUCCESS lines ({credited}) exceed the approved totalAmount ({approved})")
    return order


@dataclass(frozen=True)
class CanceledOrder:
    """A PAYMENT_CANCELED: the lines (whole) of a paid order canceled at the PSP, each debited once."""

    order_id: str
    cancel_no: int
    lines: tuple[PaymentLine, ...]  # status CANCELED


def parse_payment_canceled(payload: dict[str, Any]) -> CanceledOrder:
    """PAYMENT_CANCELED v1 (docs/events.md). Rejects what could debit the wrong amount or the wrong seller: a
    missing or malformed orderId, cancelNo, line or cancelAmount, no line, a line twice, or a cancelAmount that
    is not the exact sum of the lines."""
    order_id = _order_id(payload)
    raw_lines = payload.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines or not all(isinstance(raw, dict) for raw in raw_lines):
        raise InvalidPayload("lines must be a non-empty list of objects")
    lines = _distinct(
        tuple(
            PaymentLine(_int(raw, "paymentOrderNo"), _int(raw, "sellerNo"), parse_amount(raw.get("amount")), CANCELED)
            for raw in raw_lines
        )
    )
    total = exact_sum(line.amount for line in lines)
    if parse_amount(payload.get("cancelAmount"), "cancelAmount") != total:
        raise InvalidPayload(f"cancelAmount ({payload.get('cancelAmount')}) is not the sum of the lines ({total})")
    return CanceledOrder(order_id, _int(payload, "cancelNo"), lines)


@dataclass(frozen=True)
class WalletCreateRequest:
    saga_id: int
    seller_no: int
    seller_id: str


def parse_wallet_create_requested(payload: Mapping[str, Any]) -> WalletCreateRequest:
    seller_id = payload.get("sellerId")
    if not isinstance(seller_id, str) or not seller_id:
        raise InvalidPayload("sellerId must be a non-empty string")
    return WalletCreateRequest(_int(payload, "sagaId"), _int(payload, "sellerNo"), seller_id)


def wallet_created(request: WalletCreateRequest, wallet_no: int) -> WalletCreatedV1:
    return {"sagaId": request.saga_id, "sellerNo": request.seller_no, "walletNo": wallet_no, "success": True}


def wallet_creation_failed(request: WalletCreateRequest, reason: str) -> WalletCreationFailedV1:
    return {"sagaId": request.saga_id, "sellerNo": request.seller_no, "success": False, "reason": reason}


@dataclass(frozen=True)
class Wallet:
    wallet_no: int
    seller_no: int
    balance: Decimal
    version: int


@dataclass(frozen=True)
class WalletTransaction:
    wallet_transaction_no: int
    wallet_no: int
    amount: Decimal
    type: str
    reference_type: str
    reference_id: int
    order_id: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class PageRequest:
    before: int | None  # newest first: only transactions numbered below the cursor
    limit: int


def parse_page(cursor: str | None, limit: str | None, *, default: int, maximum: int) -> PageRequest:
    """``cursor`` is the ``nextCursor`` of the previous page (empty or absent for the first page)."""
    if limit is None or limit == "":
        size = default
    elif limit.isascii() and limit.isdigit() and 1 <= int(limit) <= maximum:
        size = int(limit)
    else:
        raise AppError(WalletError.INVALID_LIMIT, max=maximum)
    if cursor is None or cursor == "":
        return PageRequest(None, size)
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 19 and 1 <= int(cursor) <= MAX_ID):
        raise AppError(WalletError.INVALID_CURSOR)
    return PageRequest(int(cursor), size)
