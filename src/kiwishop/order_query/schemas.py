"""Wire shapes of order's O6/O7, for the OpenAPI document. Responses are served as stored JSON bytes
(``store.py``), which have exactly these fields in this order."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel


class PaymentEventLineOut(BaseModel):
    paymentOrderNo: int
    productNo: int
    amount: Decimal
    status: str
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


class PaymentEventListOut(BaseModel):
    """A page of a member's paid orders; ``nextCursor`` is the ``paymentEventNo`` of the next page (null: last)."""

    paymentEventList: list[PaymentEventOut]
    nextCursor: str | None
