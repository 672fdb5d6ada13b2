from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kiwishop.toss_emulator.domain import (
    APPROVING_CARD,
    TEST_CARDS,
    card_decision,
    check_order,
    expiry_ok,
    luhn_ok,
    mask_card,
    parse_amount,
    vat_of,
)
from kiwishop.toss_emulator.errors import TossError, TossFailure

TODAY = dt.date(2025, 1, 10)


@pytest.mark.parametrize(
    ("number", "decision"),
    [
        ("4111-1111-1111-1111", None),
        ("4111 1111 1111 1111", None),
        ("4111111111111111", None),
        ("4000-0000-0000-0002", TossError.REJECT_CARD_COMPANY),
        ("4000000000000069", TossError.INVALID_CARD_EXPIRATION),
        ("4000 0000 0000 9995", TossError.EXCEED_MAX_PAYMENT_AMOUNT),
        ("5555-5555-5555-4444", None),  # any other valid number approves, as in Toss test mode
        ("4111-1111-1111-1112", TossError.INVALID_CARD_NUMBER),  # Luhn check fails
        ("4111-1111", TossError.INVALID_CARD_NUMBER),
        ("4111-1111-1111-111x", TossError.INVALID_CARD_NUMBER),
        ("", TossError.INVALID_CARD_NUMBER),
    ],
)
def test_each_test_card_gets_its_decision(number: str, decision: TossError | None) -> None:
    assert card_decision(number, None, TODAY) is decision


def test_the_cards_listed_on_the_window_are_the_ones_that_decide() -> None:
    assert [card_decision(number, None, TODAY) for number, _ in TEST_CARDS] == [
        None,
        TossError.REJECT_CARD_COMPANY,
        TossError.INVALID_CARD_EXPIRATION,
        TossError.EXCEED_MAX_PAYMENT_AMOUNT,
    ]
    assert luhn_ok(APPROVING_CARD)


EXPIRIES = [("12/30", True), ("0130", True), ("01/25", True), ("12/24", False), ("13/30", False), ("00/30", False),
            ("1/30", False), ("soon", False)]  # fmt: skip


@pytest.mark.parametrize(("expiry", "ok"), EXPIRIES)
def test_an_expiry_is_mm_yy_and_not_in_the_past(expiry: str, ok: bool) -> None:
    assert expiry_ok(expiry, TODAY) is ok


def test_an_expired_card_declines_with_invalid_card_expiration() -> None:
    assert card_decision(APPROVING_CARD, "12/24", TODAY) is TossError.INVALID_CARD_EXPIRATION


def test_the_card_number_is_masked_like_toss() -> None:
    assert mask_card("4000000000001091") == "40000000****109*"


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        (6000, 6000),
        ("6000", 6000),
        (" 6000 ", 6000),
        (Decimal("6000.00"), 6000),
        ("6000.00", 6000),
        (6000.0, 6000),
        (1, 1),
        (0, None),
        (-5, None),
        (Decimal("6000.5"), None),
        ("6e3x", None),
        ("", None),
        (True, None),
        (None, None),
        ([6000], None),
        (float("inf"), None),
        (10**13, None),
    ],
)
def test_an_amount_is_a_whole_positive_number_of_won(value: object, amount: int | None) -> None:
    assert parse_amount(value) == amount


@pytest.mark.parametrize(
    ("order_id", "order_name", "amount", "error"),
    [
        ("ord-1", "상품A", 1000, TossError.INVALID_ORDER_ID),  # 5 characters
        ("o" * 65, "상품A", 1000, TossError.INVALID_ORDER_ID),
        ("order 123", "상품A", 1000, TossError.INVALID_ORDER_ID),
        (123456, "상품A", 1000, TossError.INVALID_ORDER_ID),
        ("order-123", "  ", 1000, TossError.INVALID_ORDER_NAME),
        ("order-123", "x" * 101, 1000, TossError.INVALID_ORDER_NAME),
        ("order-123", "상품\ud800", 1000, TossError.INVALID_ORDER_NAME),  # a lone surrogate: JSON allows it, UTF-8 not
        ("order-123", "상품A", "1000.5", TossError.INVALID_AMOUNT_VALUE),
    ],
)
def test_a_window_needs_a_valid_order_id_name_and_amount(
    order_id: object, order_name: object, amount: object, error: TossError
) -> None:
    with pytest.raises(TossFailure) as caught:
        check_order(order_id, order_name, amount)
    assert caught.value.error is error


def test_a_valid_order_is_returned_normalised() -> None:
    assert check_order("order_1.2-3", " 상품A 외 2건 ", "6000.00") == ("order_1.2-3", "상품A 외 2건", 6000)


@pytest.mark.parametrize(("amount", "vat"), [(15000, 1364), (6000, 545), (11, 1), (10, 1), (5, 0), (0, 0)])
def test_the_vat_is_one_eleventh_of_the_amount_rounded_half_up(amount: int, vat: int) -> None:
    assert vat_of(amount) == vat
