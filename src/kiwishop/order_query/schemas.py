"""Wire shapes of order's O6/O7 and of the seller sales, for the OpenAPI document. Responses are served as
JSON bytes (``store.py``, ``sales.py``), which have exactly these fields in this order."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field


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
    orderStatus: str | None = Field(
        default=None, description="only once a line is CANCELED: PARTIAL_CANCELED, or CANCELED when every line is"
    )
    canceledAmount: Decimal | None = Field(default=None, description="only once a line is CANCELED: their sum")


class PaymentEventListOut(BaseModel):
    """A page of a member's paid orders; ``nextCursor`` is the ``paymentEventNo`` of the next page (null: last)."""

    paymentEventList: list[PaymentEventOut]
    nextCursor: str | None


class ProductSalesOut(BaseModel):
    amount: Decimal = Field(description="net: paidAmount less canceledAmount")
    productNo: int
    productName: str | None
    paidCount: int
    paidAmount: Decimal
    canceledCount: int
    canceledAmount: Decimal


class SellerSalesOut(BaseModel):
    """The seller's sales per product, ascending ``amount`` (then ``productNo``)."""

    orderTotalAmountGroupingProductList: list[ProductSalesOut]
