from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiwishop.platform import jsonutil
from kiwishop.wallet.domain import (
    InvalidPayload,
    PaymentLine,
    credit_key,
    parse_payment_confirm,
    settled_payload,
    totals_by_seller,
)

DOCS_EXAMPLE = """{
  "paymentEventNo": 138410375617249280, "memberNo": 1, "orderId": "4f1d3a0c-6b7e-4f0a-9a59-5d1c2b3e4f60",
  "paymentKey": "tgen_20261125114058aBcD1", "orderName": "상품A 외 2건", "method": "CARD", "type": "NORMAL",
  "approvedDateTime": "2026-11-25T11:40:58+09:00", "totalAmount": 6000.00,
  "paymentOrderList": [
    {"paymentOrderNo": 138410375617249281, "productNo": 1, "sellerNo": 1, "productName": "상품A",
     "amount": 1000.00, "status": "SUCCESS"},
    {"paymentOrderNo": 138410375617249282, "productNo": 2, "sellerNo": 1, "productName": "상품B",
     "amount": 2000.00, "status": "SUCCESS"},
    {"paymentOrderNo": 138410375617249283, "productNo": 3, "sellerNo": 1, "productName": "상품C",
     "amount": 3000.00, "status": "SUCCESS"}
  ],
  "paymentDone": true
}"""


def line(no: int, seller: int, amount: str, status: str = "SUCCESS") -> dict[str, Any]:
    return {"paymentOrderNo": no, "sellerNo": seller, "amount": Decimal(amount), "status": status, "productNo": 1}


def order(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A PAYMENT_CONFIRM payload; its ``totalAmount`` covers any lines here unless a test gives its own."""
    return {"orderId": "o-1", "paymentOrderList": list(lines), "totalAmount": Decimal("100000.00"), **extra}


def test_the_documented_payment_confirm_credits_its_three_lines_to_seller_1() -> None:
    paid = parse_payment_confirm(jsonutil.loads(DOCS_EXAMPLE))
    assert paid.order_id == "4f1d3a0c-6b7e-4f0a-9a59-5d1c2b3e4f60"
    assert [(x.payment_order_no, x.amount) for x in paid.credited_lines()] == [
        (138410375617249281, Decimal("1000.00")),
        (138410375617249282, Decimal("2000.00")),
        (138410375617249283, Decimal("3000.00")),
    ]
    assert totals_by_seller(paid.credited_lines()) == {1: Decimal("6000.00")}


def test_only_success_lines_are_credited() -> None:
    paid = parse_payment_confirm(order(line(1, 5, "10.00"), line(2, 5, "20.00", "FAILURE"), line(3, 6, "1", "UNKNOWN")))
    assert [x.payment_order_no for x in paid.credited_lines()] == [1]


def test_lines_are_grouped_by_seller_number_with_exact_decimal_sums() -> None:
    paid = parse_payment_confirm(order(line(1, 9, "0.10"), line(2, 3, "5"), line(3, 9, "0.20"), line(4, 3, "0.01")))
    totals = totals_by_seller(paid.credited_lines())
    assert totals == {3: Decimal("5.01"), 9: Decimal("0.30")}
    assert list(totals) == [3, 9]
    assert str(totals[9]) == "0.30"


def test_the_idempotency_key_names_the_order_and_the_payment_order() -> None:
    assert credit_key("o-1", 138410375617249281) == "settle:o-1:138410375617249281"


def test_wallet_settled_lists_each_sellers_total_as_two_decimal_numbers() -> None:
    paid = parse_payment_confirm(order(line(1, 2, "1000"), line(2, 1, "0.5"), line(3, 2, "0.25"), line(4, 3, "9", "X")))
    payload = settled_payload(paid)
    assert payload == {
        "orderId": "o-1",
        "sellers": [{"sellerNo": 1, "amount": Decimal("0.50")}, {"sellerNo": 2, "amount": Decimal("1000.25")}],
        "held": [],
    }
    assert b'"amount":1000.25' in jsonutil.dumps(payload)


def test_wallet_settled_lists_the_totals_of_sellers_without_a_wallet_as_held() -> None:
    paid = parse_payment_confirm(order(line(1, 2, "1000"), line(2, 1, "0.5"), line(3, 2, "0.25")))
    payload = settled_payload(paid, held_sellers={2})
    assert payload["sellers"] == [{"sellerNo": 1, "amount": Decimal("0.50")}]
    assert payload["held"] == [{"sellerNo": 2, "amount": Decimal("1000.25")}]


@pytest.mark.parametrize(
    "payload",
    [
        {"paymentOrderList": []},
        order(line(1, 1, "1.00"), orderId=""),
        order(line(1, 1, "1.00"), orderId="x" * 201),
        {"orderId": "o", "paymentOrderList": {}},
        order({**line(1, 1, "1.00"), "amount": 1.5}),  # a float is never money
        order({**line(1, 1, "1.00"), "amount": "1.00"}),
        order(line(1, 1, "1.005")),
        order(line(1, 1, "-1.00")),
        order(line(1, 1, "1E+20")),
        order({**line(1, 1, "1.00"), "sellerNo": None}),
        order({**line(1, 1, "1.00"), "sellerNo": True}),
        order({**line(1, 1, "1.00"), "paymentOrderNo": 0}),
        order({**line(1, 1, "1.00"), "status": None}),
        order(line(1, 1, "1.00"), line(1, 2, "2.00")),
        order(line(1, 1, "600.00"), totalAmount=Decimal("500.00")),
        order(line(1, 1, "1.00"), totalAmount=None),
        order(line(1, 1, "1.00"), totalAmount=1.0),
        {"orderId": "o-1", "paymentOrderList": ["not a line"], "totalAmount": Decimal("1.00")},
    ],
)
def test_a_payment_confirm_that_could_credit_a_wrong_amount_or_seller_is_rejected(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidPayload):
        parse_payment_confirm(payload)


def test_lines_without_the_approved_total_are_never_credited() -> None:
    """order always sends ``totalAmount``; an event without it (forged, truncated) is parked, not credited."""
    payload = order(line(1, 1, "1.00"))
    del payload["totalAmount"]
    with pytest.raises(InvalidPayload, match="totalAmount is missing"):
        parse_payment_confirm(payload)


def test_failed_lines_do_not_count_against_the_approved_total() -> None:
    paid = parse_payment_confirm(order(line(1, 1, "500.00"), line(2, 1, "100", "FAILURE"), totalAmount=500))
    assert totals_by_seller(paid.credited_lines()) == {1: Decimal("500.00")}


cents = st.integers(min_value=0, max_value=10**12)


@given(st.lists(st.tuples(st.integers(min_value=1, max_value=5), cents), max_size=60))
def test_each_sellers_total_is_the_exact_sum_of_its_lines_in_cents(items: list[tuple[int, int]]) -> None:
    lines = [PaymentLine(i + 1, seller, Decimal(c) / 100, "SUCCESS") for i, (seller, c) in enumerate(items)]
    totals = totals_by_seller(lines)
    expected: dict[int, int] = {}
    for seller, c in items:
        expected[seller] = expected.get(seller, 0) + c
    assert {s: int(a * 100) for s, a in totals.items()} == expected
    assert all(a.as_tuple().exponent == -2 for a in totals.values())
