"""Payment rules: the state machine, error codes, order names, the products checkout sells, the idempotency key
of a compensating cancel, and the PAYMENT_CONFIRM event built from an order's rows. Standard library only."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from kiwishop.contracts.events import PAYMENT_CONFIRM, PaymentConfirmV1
from kiwishop.platform.errors import ErrorCode

SEOUL = ZoneInfo("Asia/Seoul")
ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


class PaymentStatus(enum.StrEnum):
    NOT_STARTED = "NOT_STARTED"
    EXECUTING = "EXECUTING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    UNKNOWN = "UNKNOWN"
    QUARANTINED = "QUARANTINED"  # in doubt past the recovery horizon (or evidence no rule settles): a person decides
    CANCELED = "CANCELED"  # a paid line given back at the PSP (a cancel); an order whose every line is
    PARTIAL_CANCELED = "PARTIAL_CANCELED"  # an order only (never a line): some lines CANCELED, the rest SUCCESS


CONFIRMABLE = (PaymentStatus.NOT_STARTED, PaymentStatus.UNKNOWN)
PAID = (PaymentStatus.SUCCESS, PaymentStatus.PARTIAL_CANCELED, PaymentStatus.CANCELED)  # approved by the PSP
TERMINAL = (PaymentStatus.SUCCESS, PaymentStatus.FAILURE)
IN_DOUBT = (PaymentStatus.EXECUTING, PaymentStatus.UNKNOWN, PaymentStatus.QUARANTINED)


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
    PAYMENT_KEY_NOT_OF_ORDER = (
        "PEC0010",
        400,
        "결제사에 따르면 이 결제 키는 이 주문의 결제가 아닙니다. 주문은 그대로 결제할 수 있습니다.",
        "The PSP says this paymentKey is not a payment of this order; the order can still be paid.",
    )
    PSP_UNAVAILABLE = (
        "PEC0011",
        503,
        "결제사에 확인할 수 없습니다. 잠시 후 다시 시도해 주세요.",
        "The PSP could not be asked; try again shortly.",
    )
    # Cancels (handlers/cancel.py). A refusal of the PSP names its code in ``failure``; nothing was given back.
    # fmt: off
    ORDER_NOT_PAID = ("PEC0012", 409, "결제가 완료된 주문만 취소할 수 있습니다.", "Only a paid order can be canceled.")
    CANCEL_IN_PROGRESS = (
        "PEC0013", 409, "이 주문의 다른 취소가 아직 처리 중입니다. 잠시 후 다시 시도해 주세요.",
        "Another cancel of this order is still in progress; try again shortly.",
    )
    INVALID_CANCEL_LINES = (
        "PEC0014", 400, "취소할 주문 항목이 올바르지 않습니다(없는 항목, 다른 주문의 항목, 중복 또는 빈 목록): {lines}",
        "Invalid lines to cancel (unknown, of another order, repeated, or none): {lines}",
    )
    CANCEL_AMOUNT_REFUSED = (
        "PEC0015", 409, "결제사가 이 금액의 취소를 거절했습니다(취소 가능 금액과 다름). 아무것도 취소되지 않았습니다.",
        "The PSP refused to cancel this amount (not what it holds as cancelable); nothing was canceled.",
    )
    ALREADY_CANCELED_AT_PSP = (
        "PEC0016", 409, "결제사에서 이미 전액 취소된 결제입니다. 주문 항목은 바뀌지 않았습니다.",
        "The PSP says the payment is already fully canceled; the order's lines are unchanged.",
    )
    CANCEL_NOT_ALLOWED = (
        "PEC0017", 409, "결제사가 이 결제의 취소를 허용하지 않습니다({psp_code}). 아무것도 취소되지 않았습니다.",
        "The PSP does not allow canceling this payment ({psp_code}); nothing was canceled.",
    )
    CANCEL_REFUSED = (
        "PEC0018", 502, "결제사가 취소 요청을 거절했습니다({psp_code}). 아무것도 취소되지 않았습니다.",
        "The PSP refused the cancel request ({psp_code}); nothing was canceled.",
    )
    LINES_ALREADY_CANCELED = (
        "PEC0019", 409, "이미 취소된 항목이 함께 있습니다: {lines}. 취소되지 않은 항목만 보내 주세요.",
        "Some of these lines are already canceled: {lines}. Send only lines not canceled yet.",
    )
    # An operator's action on an order in doubt (handlers/ops.py).
    NOT_IN_DOUBT = (
        "PEC0020", 409, "확인이 필요한 주문이 아닙니다(현재 {status}). 아무것도 하지 않았습니다.",
        "The order is not in doubt (it is {status}); nothing was done.",
    )
    BEING_WORKED_ON = (
        "PEC0021", 409, "이 주문은 지금 결제 승인 또는 복구가 진행 중입니다. 잠시 후 다시 시도해 주세요.",
        "A confirm or recovery of this order is running right now; try again shortly.",
    )
    # fmt: on


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


def compensation_key(order_id: str, payment_key: str) -> str:
    """One key per compensating cancel: the same payment of the same order is cancelled once, however often asked."""
    return f"compensate-{order_id}-{payment_key}"[:300]


@dataclass(frozen=True)
class CatalogProduct:
    """A product as catalog sells it, for checkout."""

    product_no: int
    seller_no: int
    product_id: str
    name: str
    price: Decimal


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
    confirm_event_id: int | None = None
    confirm_started_at: dt.datetime | None = None
    in_doubt_since: dt.datetime | None = None
    recovery_attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    pending_payment_key: str | None = None  # the key a confirm tries; ``payment_key`` once the PSP vouched for it

    @property
    def status(self) -> PaymentStatus:
        """All lines move together, and the order's status is theirs, until a cancel gives some of a paid order's
        lines back: then PARTIAL_CANCELED, or CANCELED once every line is."""
        if not self.lines:
            return PaymentStatus.NOT_STARTED
        canceled = sum(1 for line in self.lines if line.status is PaymentStatus.CANCELED)
        if not canceled:
            return self.lines[0].status
        return PaymentStatus.CANCELED if canceled == len(self.lines) else PaymentStatus.PARTIAL_CANCELED


def started_values(payment_key: str, started_at: dt.datetime, lease_until: dt.datetime) -> dict[str, object]:
    """What a confirm that moves an order to EXECUTING writes to its payment event: the key it tries (pending —
    bound to the order only when the PSP vouches for it)."""
    return {"pending_payment_key": payment_key, "confirm_started_at": started_at, "next_attempt_at": lease_until}


def released_values() -> dict[str, object]:
    """An attempt whose paymentKey the PSP didn't vouch for, undone: the order is payable as before it."""
    return {"pending_payment_key": None, "confirm_started_at": None, "next_attempt_at": None}


def approved_values(
    payment_key: str | None, approved_at: dt.datetime | None, confirm_event_id: int, settle_check_at: dt.datetime
) -> dict[str, object]:
    """What an approval (SUCCESS) writes to the payment event: the paymentKey the PSP approved (bound now), the
    PAYMENT_CONFIRM's id and the settlement check."""
    return {
        "payment_key": payment_key,
        "is_payment_done": True,
        "approved_at": approved_at,
        "failure_code": None,
        "failure_message": None,
        "next_attempt_at": None,
        "confirm_event_id": confirm_event_id,
        "settle_check_at": settle_check_at,
    }


def confirm_payload(payment: Payment) -> PaymentConfirmV1:
    """PAYMENT_CONFIRM payload (docs/events.md), from the rows after the update. Rebuilt later (settlement),
    it is the confirm as it was: a line canceled since is SUCCESS there (its PAYMENT_CANCELED takes it back)."""
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
                "status": str(PaymentStatus.SUCCESS if line.status is PaymentStatus.CANCELED else line.status),
            }
            for line in payment.lines
        ],
        "paymentDone": payment.is_payment_done,
    }


@dataclass(frozen=True)
class Event:
    """An event that leaves with the change that caused it (an outbox row of the same transaction)."""

    type: str
    key: str
    payload: dict[str, object]
    idempotency_key: str
    event_id: int | None = None  # a known event's id (the same event sent again); None: a new one


def payment_confirmed(payment: Payment) -> Event:
    """PAYMENT_CONFIRM of a paid order, from its rows after the update, under its recorded ``confirm_event_id``
    (one key per order: sent again, it is the same event)."""
    return Event(
        type=PAYMENT_CONFIRM.name,
        key=payment.order_id,
        payload=dict(confirm_payload(payment)),
        idempotency_key=f"{PAYMENT_CONFIRM.name}:{payment.order_id}",
        event_id=payment.confirm_event_id,
    )


class PaymentKeyTaken(Exception):
    """The paymentKey a confirm brought already belongs to another order."""
