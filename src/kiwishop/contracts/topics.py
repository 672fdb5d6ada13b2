"""Topic names. Keys are aggregate ids (orderId, productNo, sellerNo); every topic has a ``.DLT``."""

from __future__ import annotations

PAYMENT = "kiwi-shop-payment"
PRODUCT_LIKE = "kiwi-shop-product-like"
PRODUCT_REVIEW = "kiwi-shop-product-review"
WALLET = "kiwi-shop-wallet"
SELLER = "kiwi-shop-seller"

BUSINESS_TOPICS = (PAYMENT, PRODUCT_LIKE, PRODUCT_REVIEW, WALLET, SELLER)


def all_topics() -> list[str]:
    return [*BUSINESS_TOPICS, *(f"{t}.DLT" for t in BUSINESS_TOPICS)]
