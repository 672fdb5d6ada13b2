from __future__ import annotations

from kiwishop.seller.domain import seller_deregistered, seller_registered


def test_seller_registered_carries_the_seller_number_id_and_registration() -> None:
    assert seller_registered(42, "B", 7) == {"sellerNo": 42, "sellerId": "B", "registrationId": 7}


def test_a_seller_without_a_registration_is_announced_with_a_null_registration_id() -> None:
    assert seller_registered(1, "A", None) == {"sellerNo": 1, "sellerId": "A", "registrationId": None}


def test_seller_deregistered_carries_the_reason_cut_to_500_characters() -> None:
    assert seller_deregistered(42, "B", "wallet refused") == {
        "sellerNo": 42,
        "sellerId": "B",
        "reason": "wallet refused",
    }
    assert len(seller_deregistered(42, "B", "x" * 900)["reason"]) == 500
