from __future__ import annotations

from typing import Any

import pytest

from kiwishop.catalog.domain import InvalidSellerEvent, SellerChange, SellerState, parse_seller_event
from kiwishop.contracts import events

SELLER_REGISTERED, SELLER_DEREGISTERED = events.SELLER_REGISTERED.name, events.SELLER_DEREGISTERED.name


def test_seller_registered_makes_the_seller_active() -> None:
    payload = {"sellerNo": 42, "sellerId": "B", "registrationId": 7}
    assert parse_seller_event(SELLER_REGISTERED, "42", payload) == SellerChange(42, "B", SellerState.ACTIVE)


def test_seller_deregistered_makes_the_seller_gone() -> None:
    payload = {"sellerNo": 42, "sellerId": "B", "reason": "wallet refused"}
    assert parse_seller_event(SELLER_DEREGISTERED, "42", payload) == SellerChange(42, "B", SellerState.GONE)


def test_a_seller_announced_without_a_registration_is_still_a_registration() -> None:
    payload = {"sellerNo": 1, "sellerId": "A", "registrationId": None}
    assert parse_seller_event(SELLER_REGISTERED, "1", payload).state is SellerState.ACTIVE


@pytest.mark.parametrize(
    ("event_type", "key", "payload"),
    [
        (SELLER_REGISTERED, "42", {"sellerId": "B"}),
        (SELLER_REGISTERED, "42", {"sellerNo": "42", "sellerId": "B"}),
        (SELLER_REGISTERED, "42", {"sellerNo": True, "sellerId": "B"}),
        (SELLER_REGISTERED, "0", {"sellerNo": 0, "sellerId": "B"}),
        (SELLER_REGISTERED, "-1", {"sellerNo": -1, "sellerId": "B"}),
        (SELLER_REGISTERED, str(2**63), {"sellerNo": 2**63, "sellerId": "B"}),
        (SELLER_REGISTERED, "42", {"sellerNo": 42}),
        (SELLER_REGISTERED, "42", {"sellerNo": 42, "sellerId": ""}),
        (SELLER_REGISTERED, "42", {"sellerNo": 42, "sellerId": 7}),
        (SELLER_REGISTERED, "42", {"sellerNo": 42, "sellerId": "x" * 129}),
        (SELLER_DEREGISTERED, "43", {"sellerNo": 42, "sellerId": "B"}),
        (SELLER_DEREGISTERED, "", {"sellerNo": 42, "sellerId": "B"}),
        ("WALLET_CREATE_REQUESTED", "42", {"sellerNo": 42, "sellerId": "B"}),
    ],
)
def test_a_malformed_event_or_one_whose_key_names_another_seller_is_invalid(
    event_type: str, key: str, payload: dict[str, Any]
) -> None:
    with pytest.raises(InvalidSellerEvent):
        parse_seller_event(event_type, key, payload)
