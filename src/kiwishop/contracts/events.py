"""Event types: every type on the topics, its topic, the service that writes it (its owner), and the payload
versions its consumers accept; then the payload shapes of docs/events.md as ``TypedDict``s.

Standard library only, so domain modules may import it. A service's consumer passes the types of the topics it
reads to ``Runtime.consume`` (``on_topics``): a record of a type it handles but of a version not listed here
is parked at once, a record of a type the contracts put on the topic for other consumers is skipped, and a
record of a type no contract names is parked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypedDict

from kiwishop.contracts import topics


@dataclass(frozen=True)
class EventType:
    name: str  # the envelope's ``type``
    topic: str
    owner: str  # the service that writes it
    versions: frozenset[int] = frozenset({1})  # payload versions its consumers accept


PAYMENT_CONFIRM = EventType("PAYMENT_CONFIRM", topics.PAYMENT, "order")
PAYMENT_CANCELED = EventType("PAYMENT_CANCELED", topics.PAYMENT, "order")
PRODUCT_LIKED = EventType("PRODUCT_LIKED", topics.PRODUCT_LIKE, "catalog-like")
PRODUCT_UNLIKED = EventType("PRODUCT_UNLIKED", topics.PRODUCT_LIKE, "catalog-like")
PRODUCT_CREATED_REVIEW = EventType("PRODUCT_CREATED_REVIEW", topics.PRODUCT_REVIEW, "catalog-review")
PRODUCT_DELETED_REVIEW = EventType("PRODUCT_DELETED_REVIEW", topics.PRODUCT_REVIEW, "catalog-review")
WALLET_SETTLED = EventType("WALLET_SETTLED", topics.WALLET, "wallet")
WALLET_CREATED = EventType("WALLET_CREATED", topics.WALLET, "wallet")
WALLET_CREATION_FAILED = EventType("WALLET_CREATION_FAILED", topics.WALLET, "wallet")
WALLET_CREATE_REQUESTED = EventType("WALLET_CREATE_REQUESTED", topics.SELLER, "seller")
SELLER_REGISTERED = EventType("SELLER_REGISTERED", topics.SELLER, "seller")
SELLER_DEREGISTERED = EventType("SELLER_DEREGISTERED", topics.SELLER, "seller")

EVENT_TYPES = (
    PAYMENT_CONFIRM,
    PAYMENT_CANCELED,
    PRODUCT_LIKED,
    PRODUCT_UNLIKED,
    PRODUCT_CREATED_REVIEW,
    PRODUCT_DELETED_REVIEW,
    WALLET_SETTLED,
    WALLET_CREATED,
    WALLET_CREATION_FAILED,
    WALLET_CREATE_REQUESTED,
    SELLER_REGISTERED,
    SELLER_DEREGISTERED,
)


def on_topics(*names: str) -> tuple[EventType, ...]:
    """Every type the contracts put on the topics ``names`` (the contract names, not a test's own topics)."""
    return tuple(t for t in EVENT_TYPES if t.topic in names)


# Payloads (version 1). Money is a Decimal (a JSON number with two decimals), date-times ISO-8601 strings.


class PaymentOrderLineV1(TypedDict):
    paymentOrderNo: int
    productNo: int
    sellerNo: int
    productName: str
    amount: Decimal
    status: str  # every line of a paid order is SUCCESS


class PaymentConfirmV1(TypedDict):
    paymentEventNo: int
    memberNo: int
    orderId: str
    paymentKey: str | None
    orderName: str
    method: str
    type: str
    approvedDateTime: str | None  # Asia/Seoul, +09:00
    totalAmount: Decimal
    paymentOrderList: list[PaymentOrderLineV1]
    paymentDone: bool


class CanceledLineV1(TypedDict):
    paymentOrderNo: int
    productNo: int
    sellerNo: int
    amount: Decimal  # the line's whole amount: lines are canceled whole


class PaymentCanceledV1(TypedDict):
    """One cancel of a paid order at the PSP (some or all of its lines), keyed by orderId on the payment topic,
    after the order's PAYMENT_CONFIRM. Wallet debits each line once (key ``debit:{orderId}:{paymentOrderNo}``)."""

    paymentEventNo: int
    memberNo: int
    orderId: str
    paymentKey: str
    cancelNo: int  # the order's cancels are numbered 1, 2, … (its idempotency key: cancel-{orderId}-{cancelNo})
    cancelReason: str
    canceledDateTime: str | None  # Asia/Seoul, +09:00 (the PSP's canceledAt)
    cancelAmount: Decimal  # the sum of the lines
    lines: list[CanceledLineV1]
    orderStatus: str  # the order after this cancel: PARTIAL_CANCELED or CANCELED


class SellerAmountV1(TypedDict):
    sellerNo: int
    amount: Decimal


class WalletSettledV1(TypedDict):
    orderId: str
    sellers: list[SellerAmountV1]  # credited, ascending sellerNo
    held: list[SellerAmountV1]  # sellers without a wallet yet: credited once it exists


class WalletCreateRequestedV1(TypedDict):
    sagaId: int
    sellerNo: int
    sellerId: str


class WalletCreatedV1(TypedDict):
    sagaId: int
    sellerNo: int
    walletNo: int
    success: Literal[True]


class WalletCreationFailedV1(TypedDict):
    sagaId: int
    sellerNo: int
    success: Literal[False]
    reason: str


class SellerRegisteredV1(TypedDict):
    sellerNo: int
    sellerId: str
    registrationId: int | None  # None: a seller without a registration (the seed seller)


class SellerDeregisteredV1(TypedDict):
    sellerNo: int
    sellerId: str
    reason: str  # at most 500 characters


class ProductLikeV1(TypedDict):
    """PRODUCT_LIKED and PRODUCT_UNLIKED."""

    catalogLikeNo: int
    productNo: int
    memberNo: int
    productLikeCount: int  # after this change
    createdAt: str  # when the like was made, UTC, milliseconds
    version: int  # the product's like-count row version after this change


class ProductReviewV1(TypedDict):
    """PRODUCT_CREATED_REVIEW and PRODUCT_DELETED_REVIEW."""

    catalogReviewNo: int
    productNo: int
    memberNo: int
    title: str
    content: str
    starRating: int  # 1..5
    isDeleted: bool
    reviewCount: int  # live reviews after this change
    reviewStarRatingSum: int
    version: int  # the product's review-totals row version after this change
