"""Payment rules: the state machine, how Toss answers are classified, order names, event payloads."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kiwishop.platform.errors import ErrorCode

SEOUL = ZoneInfo("Asia/Seoul")
ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
PAYMENT_CONFIRM = "PAYMENT_CONFIRM"


class PaymentStatus(enum.StrEnum):
    NOT_STARTED = "NOT_STARTED"
    EXECUTING = "EXECUTING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    UNKNOWN = "UNKNOWN"


CONFIRMABLE = (PaymentStatus.NOT_STARTED, PaymentStatus.UNKNOWN)
TERMINAL = (PaymentStatus.SUCCESS, PaymentStatus.FAILURE)


class OrderError(ErrorCode):
    NOT_EXIST_PRODUCT = ("PEC0001", 400, "상품이 존재하지 않습니다: {missing}", "Products do not exist: {missing}")
    INVALID_PAYMENT_AMOUNT = ("PEC0002", 400, "결제 금액이 유효하지 않습니다.", "The payment amount is invalid.")
    NON_INTEGER_AMOUNT = (
        "PEC0003",
        400,
        "원화 결제 금액은 원 단위여야 합니다: {amount}",
        "A KRW payment amount must be whole won: {amount}",
    )
    ORDER_NOT_FOUND = ("PEC0004", 404, "주문이 존재하지 않습니다.", "The order does not exist.")
    PAYMENT_IN_PROGRESS = (
        "PEC0005",
        409,
        "이 주문의 결제 승인이 진행 중입니다. 잠시 후 결과를 확인해 주세요.",
        "A confirmation of this order is in progress; check its result shortly.",
    )
    PAYMENT_KEY_MISMATCH = (
        "PEC0006",
        409,
        "이 주문은 다른 결제로 이미 처리 중이거나 완료되었습니다.",
        "This order is already being paid, or was paid, with another payment.",
    )
    CATALOG_UNAVAILABLE = (
        "PEC0007",
        503,
        "상품 정보를 가져올 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "Product data is unavailable; try again shortly.",
    )
    PAYMENT_EVENT_NOT_FOUND = ("PEC0008", 404, "결제 내역이 존재하지 않습니다.", "No such payment.")
    PAYMENT_FAILED = ("PEC0009", 400, "결제에 실패했습니다: {reason}", "The payment failed: {reason}")


class PspClass(enum.Enum):
    """What an answer of the PSP means for our order (toss.md A4, retry classes)."""

    FINAL = "final"  # a definitive decline or a request/config error: FAILURE, never retry
    RETRY = "retry"  # in doubt (5xx, timeouts, provider errors): retry with the same key, then UNKNOWN
    RECONCILE = "reconcile"  # already processed: look the payment up, SUCCESS only if DONE and matching
    IN_FLIGHT = "in_flight"  # the same idempotency key is still being processed: ask again shortly


RETRYABLE_CODES = frozenset(
    {
        "PROVIDER_ERROR",
        "CARD_PROCESSING_ERROR",
        "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
        "FAILED_INTERNAL_SYSTEM_PROCESSING",
        "UNKNOWN_PAYMENT_ERROR",
        "UNKNOWN",
    }
)
RECONCILE_CODES = frozenset({"ALREADY_PROCESSED_PAYMENT", "ALREADY_COMPLETED_PAYMENT"})
FINAL_CODES = frozenset(
    {
        "EXCEED_MAX_CARD_INSTALLMENT_PLAN", "INVALID_REQUEST", "NOT_ALLOWED_POINT_USE", "INVALID_API_KEY",
        "INVALID_REJECT_CARD", "BELOW_MINIMUM_AMOUNT", "INVALID_CARD_EXPIRATION", "INVALID_STOPPED_CARD",
        "EXCEED_MAX_DAILY_PAYMENT_COUNT", "NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT",
        "INVALID_CARD_INSTALLMENT_PLAN", "NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN", "EXCEED_MAX_PAYMENT_AMOUNT",
        "NOT_FOUND_TERMINAL_ID", "INVALID_AUTHORIZE_AUTH", "INVALID_CARD_LOST_OR_STOLEN",
        "RESTRICTED_TRANSFER_ACCOUNT", "INVALID_CARD_NUMBER", "INVALID_UNREGISTERED_SUBMALL",
        "NOT_REGISTERED_BUSINESS", "EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT", "EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT",
        "EXCEED_MAX_AMOUNT", "INVALID_ACCOUNT_INFO_RE_REGISTER", "NOT_AVAILABLE_PAYMENT", "UNAPPROVED_ORDER_ID",
        "UNAUTHORIZED_KEY", "REJECT_ACCOUNT_PAYMENT", "REJECT_CARD_PAYMENT", "REJECT_CARD_COMPANY",
        "FORBIDDEN_REQUEST", "REJECT_TOSSPAY_INVALID_ACCOUNT", "EXCEED_MAX_AUTH_COUNT", "EXCEED_MAX_ONE_DAY_AMOUNT",
        "NOT_AVAILABLE_BANK", "INVALID_PASSWORD", "INCORRECT_BASIC_AUTH_FORMAT", "FDS_ERROR", "NOT_FOUND_PAYMENT",
        "NOT_FOUND_PAYMENT_SESSION", "INVALID_IDEMPOTENCY_KEY", "INVALID_TEST_CODE",
    }
)  # fmt: skip


def classify(http_status: int, code: str | None) -> PspClass:
    """Toss error → what to do. Unknown codes, 5xx and 429 are in doubt: the charge may have happened."""
    if code == "IDEMPOTENT_REQUEST_PROCESSING":
        return PspClass.IN_FLIGHT
    if code in RECONCILE_CODES:
        return PspClass.RECONCILE
    if code in RETRYABLE_CODES or http_status >= 500 or http_status == 429:
        return PspClass.RETRY
    if code in FINAL_CODES:
        return PspClass.FINAL
    return PspClass.RETRY


@dataclass(frozen=True)
class PspResult:
    """The outcome of asking the PSP about one order: what the order's status becomes."""

    status: PaymentStatus  # SUCCESS, FAILURE or UNKNOWN
    code: str | None = None
    message: str | None = None
    approved_at: dt.datetime | None = None  # UTC, naive
    payment_key: str | None = None

    @classmethod
    def success(cls, approved_at: dt.datetime, payment_key: str) -> PspResult:
        return cls(PaymentStatus.SUCCESS, approved_at=approved_at, payment_key=payment_key)

    @classmethod
    def failure(cls, code: str, message: str) -> PspResult:
        return cls(PaymentStatus.FAILURE, code=code, message=message)

    @classmethod
    def unknown(cls, code: str, message: str) -> PspResult:
        return cls(PaymentStatus.UNKNOWN, code=code, message=message)


def judge_payment(payment: dict[str, Any], order_id: str, amount: Decimal, payment_key: str | None) -> PspResult:
    """A Payment object from confirm or lookup: SUCCESS only if DONE for exactly this order and amount."""
    status = payment.get("status")
    if payment.get("orderId") != order_id or (payment_key and payment.get("paymentKey") != payment_key):
        return PspResult.unknown("PSP_MISMATCH", "the PSP answered about another payment")
    try:
        total = Decimal(str(payment.get("totalAmount")))
    except ArithmeticError:
        return PspResult.unknown("PSP_MALFORMED", "totalAmount is not a number")
    if status == "DONE":
        if total != amount:
            return PspResult.unknown("PSP_AMOUNT_MISMATCH", f"the PSP approved {total}, the order is {amount}")
        approved = parse_psp_time(payment.get("approvedAt"))
        if approved is None:
            return PspResult.unknown("PSP_MALFORMED", "approvedAt missing")
        return PspResult.success(approved, str(payment.get("paymentKey")))
    if status in ("ABORTED", "EXPIRED", "CANCELED", "PARTIAL_CANCELED"):
        failure = payment.get("failure") or {}
        return PspResult.failure(str(failure.get("code") or f"PAYMENT_{status}"), str(failure.get("message") or status))
    return PspResult.unknown("PSP_NOT_DONE", f"payment status is {status}")


def parse_psp_time(value: object) -> dt.datetime | None:
    """Toss times carry an offset (+09:00); we store UTC without tzinfo."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SEOUL)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def seoul_iso(utc_naive: dt.datetime | None) -> str | None:
    """A stored UTC time as ISO-8601 in Asia/Seoul (what buyers and the original show)."""
    if utc_naive is None:
        return None
    return utc_naive.replace(tzinfo=dt.UTC).astimezone(SEOUL).isoformat(timespec="seconds")


def order_name(product_names: list[str]) -> str:
    """'상품A' for one product, '상품A 그외' for several (the original appended ' 그외' even for one: G11)."""
    if len(product_names) == 1:
        return product_names[0]
    return f"{product_names[0]} 그외"


@dataclass
class Line:
    payment_order_no: int
    product_no: int
    seller_no: int
    product_name: str
    amount: Decimal
    status: PaymentStatus
    failed_count: int = 0
    threshold: int = 5


@dataclass
class Payment:
    """One payment event (an order) with its lines, as stored."""

    payment_event_no: int
    member_no: int
    order_id: str
    order_name: str
    total_amount: Decimal
    payment_key: str | None
    approved_at: dt.datetime | None
    is_payment_done: bool
    is_wallet_done: bool
    failure_code: str | None
    failure_message: str | None
    lines: list[Line] = field(default_factory=list)
    updated_at: dt.datetime | None = None

    @property
    def status(self) -> PaymentStatus:
        """All lines move together; the order's status is theirs."""
        return self.lines[0].status if self.lines else PaymentStatus.NOT_STARTED

    @property
    def failed_count(self) -> int:
        return max((line.failed_count for line in self.lines), default=0)

    @property
    def threshold(self) -> int:
        return min((line.threshold for line in self.lines), default=5)


def confirm_payload(payment: Payment) -> dict[str, Any]:
    """PAYMENT_CONFIRM payload (docs/events.md), from the rows after the update."""
    return {
        "paymentEventNo": payment.payment_event_no,
        "memberNo": payment.member_no,
        "orderId": payment.order_id,
        "paymentKey": payment.payment_key,
        "orderName": payment.order_name,
        "method": "CARD",
        "type": "NORMAL",
        "approvedDateTime": seoul_iso(payment.approved_at),
        "totalAmount": payment.total_amount,
        "paymentOrderList": [
            {
                "paymentOrderNo": line.payment_order_no,
                "productNo": line.product_no,
                "sellerNo": line.seller_no,
                "productName": line.product_name,
                "amount": line.amount,
                "status": str(line.status),
            }
            for line in payment.lines
        ],
        "paymentDone": payment.is_payment_done,
    }
