"""The read model's rules without I/O: shape and key order of O7, what is refused, how ids sort, what a
page proves."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiwishop.order_query.domain import InvalidEvent, pad, page_floor, paid_read_model
from kiwishop.order_query.store import FIRST_PAGE, model_json
from kiwishop.platform.params import MAX_ID

O7_KEYS = [
    "paymentEventNo", "memberNo", "orderId", "paymentKey", "orderName", "method", "type", "approvedDateTime",
    "paymentOrderList", "paymentDone",
]  # fmt: skip


def confirm_payload(**changes: Any) -> dict[str, Any]:
    """docs/events.md's PAYMENT_CONFIRM example (money already parsed as Decimal, as the envelope does)."""
    body: dict[str, Any] = {
        "paymentEventNo": 138410375617249280,
        "memberNo": 1,
        "orderId": "4f1d3a0c-6b7e-4f0a-9a59-5d1c2b3e4f60",
        "paymentKey": "tgen_20261125114058aBcD1",
        "orderName": "상품A 외 2건",
        "method": "CARD",
        "type": "NORMAL",
        "approvedDateTime": "2026-11-25T11:40:58+09:00",
        "totalAmount": Decimal("6000.00"),
        "paymentOrderList": [
            {"paymentOrderNo": 138410375617249281, "productNo": 1, "sellerNo": 1, "productName": "상품A",
             "amount": Decimal("1000.00"), "status": "SUCCESS"},
            {"paymentOrderNo": 138410375617249282, "productNo": 2, "sellerNo": 1, "productName": "상품B",
             "amount": Decimal("2000.00"), "status": "SUCCESS"},
        ],
        "paymentDone": True,
    }  # fmt: skip
    body.update(changes)
    return body


def test_a_paid_event_becomes_o7s_fields_in_o7s_order_without_seller_or_total() -> None:
    model = paid_read_model(confirm_payload())
    assert list(model) == O7_KEYS
    assert model["paymentOrderList"][0] == {
        "paymentOrderNo": 138410375617249281, "productNo": 1, "amount": Decimal("1000.00"), "status": "SUCCESS",
        "productName": "상품A",
    }  # fmt: skip
    assert list(model["paymentOrderList"][0]) == ["paymentOrderNo", "productNo", "amount", "status", "productName"]


def test_the_stored_json_has_exact_money_and_big_ids_as_numbers() -> None:
    raw = model_json(paid_read_model(confirm_payload()))
    assert b'"amount":1000.00' in raw
    assert b'"paymentEventNo":138410375617249280' in raw
    assert b'"paymentDone":true' in raw
    assert json.loads(raw)["approvedDateTime"] == "2026-11-25T11:40:58+09:00"


@pytest.mark.parametrize("amount", [1000, "1000", Decimal("1000.0"), Decimal("1000.000")])
def test_money_is_always_two_decimals_like_orders_decimal_columns(amount: object) -> None:
    line = {**confirm_payload()["paymentOrderList"][0], "amount": amount}
    raw = model_json(paid_read_model(confirm_payload(paymentOrderList=[line])))
    assert b'"amount":1000.00' in raw


@pytest.mark.parametrize(
    "changes",
    [
        {"paymentDone": False},
        {"paymentDone": "true"},
        {"paymentOrderList": []},
        {"paymentOrderList": None},
        {"paymentEventNo": "138410375617249280"},
        {"paymentEventNo": True},
        {"paymentEventNo": 0},
        {"memberNo": MAX_ID + 1},
        {"orderId": ""},
        {"orderName": None},
    ],
)
def test_what_is_not_a_well_formed_paid_event_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvent):
        paid_read_model(confirm_payload(**changes))


@pytest.mark.parametrize(
    "line_changes", [{"status": "NOT_STARTED"}, {"amount": "abc"}, {"amount": None}, {"productName": ""}]
)
def test_a_paid_event_whose_lines_are_not_all_successful_and_well_formed_is_refused(
    line_changes: dict[str, Any],
) -> None:
    line = {**confirm_payload()["paymentOrderList"][0], **line_changes}
    with pytest.raises(InvalidEvent):
        paid_read_model(confirm_payload(paymentOrderList=[line]))


def test_a_missing_payment_key_or_approval_time_stays_null() -> None:
    model = paid_read_model(confirm_payload(paymentKey=None, approvedDateTime=None))
    assert model["paymentKey"] is None
    assert model["approvedDateTime"] is None


@given(st.integers(1, MAX_ID), st.integers(1, MAX_ID))
def test_padded_ids_sort_as_text_exactly_as_they_sort_as_numbers(a: int, b: int) -> None:
    assert (pad(a) < pad(b)) == (a < b)
    assert len(pad(a)) == 19
    assert pad(a) < FIRST_PAGE[1:] < "f"  # below the first-page bound, which is below the floor sentinel


def test_a_full_page_proves_down_to_its_last_event_and_a_short_one_to_the_first_order() -> None:
    assert page_floor(100, 100, 555) == 555
    assert page_floor(42, 100, 555) == 0
    assert page_floor(0, 100, None) == 0
