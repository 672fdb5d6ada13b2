from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiwishop.order.cancellation import CancelResult, CancelStatus
from kiwishop.order.domain import Payment, PaymentStatus, seoul_iso
from kiwishop.order.messages import failure_text
from kiwishop.platform.params import MAX_ID

OrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{6,64}$")]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    memberNo: int = Field(ge=1, le=MAX_ID)
    productNoList: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=50)


class CheckoutOut(BaseModel):
    paymentEventNo: int
    orderId: str
    orderName: str
    amount: Decimal


class ConfirmIn(BaseModel):
    """What the success redirect hands over; ``amount`` may be a string (the original sent the raw query value)."""

    model_config = ConfigDict(extra="ignore")

    paymentKey: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
    orderId: OrderId
    # The status the PSP says the payment has now — a hint too: it only spares asking the PSP when the order is
    # past anything that status could move (``SyncFromPsp``).
    status: Annotated[str, StringConstraints(max_length=40)] | None = None
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False)


class FailureOut(BaseModel):
    code: str
    message: str


class PaymentResultOut(BaseModel):
    orderId: str
    status: PaymentStatus
    paymentKey: str | None
    approvedAt: str | None
    amount: Decimal
    failure: FailureOut | None

    @classmethod
    def of(cls, p: Payment, lang: str = "ko") -> PaymentResultOut:
        """``lang`` ('en' or Korean) picks the failure's message (``messages.failure_text``)."""
        failure = None  # only a FAILURE has one: in doubt and quarantined orders are "확인 중", never failed
        if p.status is PaymentStatus.FAILURE and p.failure_code:
            failure = FailureOut(code=p.failure_code, message=failure_text(p.failure_code, p.failure_message, lang))
        return cls(
            orderId=p.order_id,
            status=p.status,
            paymentKey=p.payment_key,
            approvedAt=seoul_iso(p.approved_at),
            amount=p.total_amount,
            failure=failure,
        )


class PaymentOrderLineOut(BaseModel):
    paymentOrderNo: int
    orderId: str
    amount: Decimal
    status: PaymentStatus
    sellerNo: int
    productNo: int


class PaymentOrderListOut(BaseModel):
    paymentOrderList: list[PaymentOrderLineOut]


class PaymentEventLineOut(BaseModel):
    paymentOrderNo: int
    productNo: int
    amount: Decimal
    status: PaymentStatus
    productName: str


class PaymentEventOut(BaseModel):
    paymentEventNo: int
    memberNo: int
    orderId: str
    paymentKey: str | None
    orderName: str
    method: str
    type: str
    approvedDateTime: str | None
    paymentOrderList: list[PaymentEventLineOut]
    paymentDone: bool

    @classmethod
    def of(cls, p: Payment, *, show_key: bool = True) -> PaymentEventOut:
        """``show_key``: the PSP's paymentKey is for ops; a member's answer has the field, always null."""
        return cls(
            paymentEventNo=p.payment_event_no,
            memberNo=p.member_no,
            orderId=p.order_id,
            paymentKey=p.payment_key if show_key else None,
            orderName=p.order_name,
            method="CARD",
            type="NORMAL",
            approvedDateTime=seoul_iso(p.approved_at),
            paymentOrderList=[
                PaymentEventLineOut(
                    paymentOrderNo=line.payment_order_no,
                    productNo=line.product_no,
                    amount=line.amount,
                    status=line.status,
                    productName=line.product_name,
                )
                for line in p.lines
            ],
            paymentDone=p.is_payment_done,
        )


class PaymentEventListOut(BaseModel):
    """A page of a member's paid orders; ``nextCursor`` is the ``paymentEventNo`` of the next page (null: last)."""

    paymentEventList: list[PaymentEventOut]
    nextCursor: str | None


class CancelIn(BaseModel):
    """A cancel of some lines of a paid order (``paymentOrderNos``), or of every line not cancelled yet (absent).
    The amount is the lines' sum: a client never sends one."""

    model_config = ConfigDict(extra="forbid")

    cancelReason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    paymentOrderNos: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=100)


class CancelLineOut(BaseModel):
    paymentOrderNo: int
    productNo: int
    amount: Decimal
    status: PaymentStatus


class CancelOut(BaseModel):
    """The order after one of its cancels: ``status`` is the order's (SUCCESS, PARTIAL_CANCELED, CANCELED),
    ``cancelStatus`` the cancel's (DONE; EXECUTING / UNKNOWN while the PSP's word is awaited; FAILED)."""

    orderId: str
    status: PaymentStatus
    cancelNo: int
    cancelStatus: CancelStatus
    paymentOrderNos: list[int]  # the lines of this cancel
    canceledAmount: Decimal  # this cancel's amount
    canceledDateTime: str | None  # the PSP's canceledAt, Asia/Seoul
    refundedAmount: Decimal  # every CANCELED line of the order
    refundableAmount: Decimal  # every line still SUCCESS
    lines: list[CancelLineOut]  # every line of the order
    failure: FailureOut | None  # a FAILED cancel: the PSP's code and message

    @classmethod
    def of(cls, result: CancelResult, lang: str = "ko") -> CancelOut:
        p, c = result.payment, result.cancel
        failure = None
        if c.status is CancelStatus.FAILED and c.failure_code:
            failure = FailureOut(code=c.failure_code, message=failure_text(c.failure_code, c.failure_message, lang))
        return cls(
            orderId=p.order_id, status=p.status, cancelNo=c.cancel_no, cancelStatus=c.status,
            paymentOrderNos=c.line_nos, canceledAmount=c.amount, canceledDateTime=seoul_iso(c.canceled_at),
            refundedAmount=result.refunded, refundableAmount=result.refundable,
            lines=[
                CancelLineOut(paymentOrderNo=line.payment_order_no, productNo=line.product_no, amount=line.amount,
                              status=line.status)
                for line in p.lines
            ],
            failure=failure,
        )  # fmt: skip


class WebhookPaymentIn(BaseModel):
    """The Payment object of a webhook: only which payment it names is read (the PSP is asked for the rest)."""

    model_config = ConfigDict(extra="ignore")

    paymentKey: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
    orderId: OrderId
    # The status the PSP says the payment has now — a hint too: it only spares asking the PSP when the order is
    # past anything that status could move (``SyncFromPsp``).
    status: Annotated[str, StringConstraints(max_length=40)] | None = None


class WebhookIn(BaseModel):
    """Toss's webhook: ``{eventType, createdAt, data: <Payment>}``."""

    model_config = ConfigDict(extra="ignore")

    eventType: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    createdAt: Annotated[str, StringConstraints(max_length=100)] | None = None
    data: WebhookPaymentIn


class WebhookOut(BaseModel):
    """What the webhook led to (the PSP needs only the 200)."""

    eventType: str
    orderId: str
    result: str


class OpsPaymentOut(BaseModel):
    """An order an operator must see; times are UTC (``Z``)."""

    orderId: str
    status: PaymentStatus
    totalAmount: Decimal
    buyerId: int
    paymentKey: str | None
    createdAt: str | None
    updatedAt: str | None
    nextAttemptAt: str | None  # when recovery asks the PSP next (or an EXECUTING order's lease ends)
    inDoubtSince: str | None
    recoveryAttempts: int
    failureCode: str | None  # for an order in doubt: why (the PSP's code or ours)
    failureMessage: str | None
    approvedAt: str | None
    republishCount: int  # unsettled: how often PAYMENT_CONFIRM was published again


class OpsPaymentsOut(BaseModel):
    counts: dict[str, int]  # UNKNOWN, EXECUTING, QUARANTINED, UNSETTLED: all of them, not just those listed
    inDoubt: list[OpsPaymentOut]
    quarantined: list[OpsPaymentOut]
    unsettled: list[OpsPaymentOut]


class OpsCancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OpsActionOut(BaseModel):
    """The order before the action and after it; ``pspStatus``: what the PSP answered (a code, or what it proved)."""

    orderId: str
    before: PaymentStatus
    status: PaymentStatus
    pspStatus: str | None = None
