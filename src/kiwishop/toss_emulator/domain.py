"""The emulated PSP's rules: who may call, what an amount is, which test card does what, and how a
payment moves IN_PROGRESS → DONE (or EXPIRED/ABORTED); its cancels (→ PARTIAL_CANCELED/CANCELED) are in
``cancels``. Stdlib only.

Every rule raises ``TossFailure`` with the code a real Toss answer would carry (toss.md A1–A6).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import re
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TypeGuard

from kiwishop.toss_emulator.errors import TRANSIENT_CODES, TossError, TossFailure

MAX_AMOUNT = 10**12
MAX_IDEMPOTENCY_KEY = 300
MAX_PAYMENT_KEY = 200
ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{6,64}$")
MAX_ORDER_NAME = 100
MAX_CANCEL_REASON = 200


class PaymentStatus(enum.StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELED = "CANCELED"
    PARTIAL_CANCELED = "PARTIAL_CANCELED"
    ABORTED = "ABORTED"
    EXPIRED = "EXPIRED"


PROCESSED = (PaymentStatus.DONE, PaymentStatus.PARTIAL_CANCELED, PaymentStatus.CANCELED)

# --- test cards (shown on the window page) ---
APPROVING_CARD = "4111111111111111"
DECLINING_CARDS: dict[str, TossError] = {
    "4000000000000002": TossError.REJECT_CARD_COMPANY,
    "4000000000000069": TossError.INVALID_CARD_EXPIRATION,
    "4000000000009995": TossError.EXCEED_MAX_PAYMENT_AMOUNT,
}
TEST_CARDS: tuple[tuple[str, str], ...] = (
    ("4111-1111-1111-1111", "승인"),
    ("4000-0000-0000-0002", "거절: REJECT_CARD_COMPANY"),
    ("4000-0000-0000-0069", "거절: INVALID_CARD_EXPIRATION"),
    ("4000-0000-0000-9995", "거절: EXCEED_MAX_PAYMENT_AMOUNT"),
)


@dataclass(frozen=True)
class Caller:
    secret_key: str

    @property
    def test_mode(self) -> bool:
        return self.secret_key.startswith("test_")


def authenticate(header: str | None, secret_keys: tuple[str, ...]) -> Caller:
    """``Authorization: Basic base64(secretKey + ":")`` → the caller, or the Toss auth error."""
    if not header or not header.strip():
        raise TossFailure(TossError.UNAUTHORIZED_KEY)
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise TossFailure(TossError.UNAUTHORIZED_KEY)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise TossFailure(TossError.INCORRECT_BASIC_AUTH_FORMAT) from exc
    if ":" not in decoded:
        raise TossFailure(TossError.INCORRECT_BASIC_AUTH_FORMAT)
    secret_key = decoded.partition(":")[0]
    if secret_key not in secret_keys:
        raise TossFailure(TossError.UNAUTHORIZED_KEY)
    return Caller(secret_key)


def forced_error(caller: Caller, test_code: str | None) -> TossError | None:
    """The error a ``TossPayments-Test-Code`` header asks for (test keys only; live keys ignore it)."""
    if test_code is None or not caller.test_mode:
        return None
    error = TossError.of(test_code.strip())
    if error is None:
        raise TossFailure(TossError.INVALID_TEST_CODE)
    return error


def check_idempotency_key(key: str | None) -> str | None:
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise TossFailure(TossError.INVALID_IDEMPOTENCY_KEY)
    return key


def parse_amount(value: object) -> int | None:
    """A whole, positive KRW amount from a JSON number or a numeric string (``6000``, ``"6000"``, ``6000.00``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if not amount.is_finite() or amount != amount.to_integral_value() or not 1 <= amount <= MAX_AMOUNT:
        return None
    return int(amount)


def is_text(value: object) -> TypeGuard[str]:
    """A string that is text on the wire: JSON may carry lone surrogates (``"\\ud800"``), which no UTF-8 can."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def valid_order_id(value: object) -> bool:
    return isinstance(value, str) and ORDER_ID_PATTERN.fullmatch(value) is not None


def check_order(order_id: object, order_name: object, amount: object) -> tuple[str, str, int]:
    """What a payment window is opened with: orderId (6–64 of ``A-Za-z0-9-_.``), orderName, amount."""
    if not isinstance(order_id, str) or not valid_order_id(order_id):
        raise TossFailure(TossError.INVALID_ORDER_ID)
    if not is_text(order_name) or not 1 <= len(order_name.strip()) <= MAX_ORDER_NAME:
        raise TossFailure(TossError.INVALID_ORDER_NAME)
    whole = parse_amount(amount)
    if whole is None:
        raise TossFailure(TossError.INVALID_AMOUNT_VALUE)
    return order_id, order_name.strip(), whole


def normalize_card(number: str) -> str:
    return re.sub(r"[\s-]", "", number)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_decision(number: str, expiry: str | None, today: dt.date) -> TossError | None:
    """None when the card approves; otherwise the decline code. Any other valid (Luhn) number approves,
    as real numbers do in Toss test mode."""
    digits = normalize_card(number)
    if not digits.isascii() or not digits.isdigit() or not 14 <= len(digits) <= 16 or not luhn_ok(digits):
        return TossError.INVALID_CARD_NUMBER
    if expiry is not None and not expiry_ok(expiry, today):
        return TossError.INVALID_CARD_EXPIRATION
    return DECLINING_CARDS.get(digits)


def expiry_ok(expiry: str, today: dt.date) -> bool:
    match = re.fullmatch(r"\s*(\d{2})\s*/?\s*(\d{2})\s*", expiry)
    if match is None:
        return False
    month, year = int(match.group(1)), 2000 + int(match.group(2))
    return 1 <= month <= 12 and (year, month) >= (today.year, today.month)


def mask_card(digits: str) -> str:
    """Toss's mask: ``40000000****109*``."""
    return digits[:8] + "****" + digits[12:15] + "*" * (len(digits) - 15)


@dataclass
class Cancel:
    amount: int
    reason: str
    canceled_at: dt.datetime
    transaction_key: str
    balance_after: int


@dataclass
class Payment:
    payment_key: str
    order_id: str
    order_name: str
    amount: int
    card_digits: str
    requested_at: dt.datetime
    status: PaymentStatus = PaymentStatus.IN_PROGRESS
    balance: int = 0
    approved_at: dt.datetime | None = None
    approve_no: str | None = None
    last_transaction_key: str | None = None
    failure: TossError | None = None
    cancels: list[Cancel] = field(default_factory=list)
    confirm_errors: deque[TossError] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.balance = self.amount


@dataclass(frozen=True)
class Timing:
    confirm_deadline: dt.timedelta
    expire_after: dt.timedelta


def refresh(payment: Payment, now: dt.datetime, timing: Timing) -> Payment:
    """Lazy expiry: an IN_PROGRESS payment not confirmed within ``expire_after`` becomes EXPIRED."""
    if payment.status is PaymentStatus.IN_PROGRESS and now - payment.requested_at >= timing.expire_after:
        payment.status = PaymentStatus.EXPIRED
        payment.failure = TossError.EXPIRED_PAYMENT
    return payment


def check_confirm(payment: Payment, order_id: str, amount: int, now: dt.datetime, timing: Timing) -> None:
    """The confirm checks in order: orderId, amount, already processed, session deadline, aborted."""
    refresh(payment, now, timing)
    if payment.order_id != order_id:
        raise TossFailure(TossError.FORBIDDEN_REQUEST)
    if payment.amount != amount:
        raise TossFailure(TossError.AMOUNT_MISMATCH)
    if payment.status in PROCESSED:
        raise TossFailure(TossError.ALREADY_PROCESSED_PAYMENT)
    if payment.status is PaymentStatus.EXPIRED or now - payment.requested_at > timing.confirm_deadline:
        raise TossFailure(TossError.NOT_FOUND_PAYMENT_SESSION)
    if payment.status is PaymentStatus.ABORTED:
        raise TossFailure(payment.failure or TossError.PAY_PROCESS_ABORTED)


def take_injected_failure(payment: Payment) -> None:
    """Apply the next ``confirmErrors`` entry: transient codes leave the payment IN_PROGRESS (and are not
    stored for idempotency); any other code aborts it."""
    if not payment.confirm_errors:
        return
    error = payment.confirm_errors.popleft()
    if error.code in TRANSIENT_CODES:
        raise TossFailure(error, transient=True)
    payment.status = PaymentStatus.ABORTED
    payment.failure = error
    raise TossFailure(error)


def approve(payment: Payment, now: dt.datetime, approve_no: str, transaction_key: str) -> None:
    payment.status = PaymentStatus.DONE
    payment.approved_at = now
    payment.approve_no = approve_no
    payment.last_transaction_key = transaction_key


def can_reauthorise(payment: Payment) -> bool:
    """An orderId may be authorised again only while its earlier payment was never confirmed."""
    return payment.status in (PaymentStatus.IN_PROGRESS, PaymentStatus.EXPIRED, PaymentStatus.ABORTED)


def vat_of(amount: int) -> int:
    """VAT inside a VAT-inclusive amount, rounded half up (15000 → 1364)."""
    return (amount * 10 + 55) // 110
