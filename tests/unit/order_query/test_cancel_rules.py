"""The cancel rules without I/O: a paid model with CANCELED lines (from an event, or from order's answers once
order shows cancels), its summary fields, and the seller sales answer."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kiwishop.order_query.domain import paid_read_model, with_cancels
from kiwishop.order_query.sales import LIST, sales_body, sales_rows
from kiwishop.order_query.store import model_json
from tests.unit.order_query.test_read_model import O7_KEYS, confirm_payload

LINE_NOS = [138410375617249281, 138410375617249282]


def canceled_line(index: int) -> dict[str, object]:
    return {**confirm_payload()["paymentOrderList"][index], "status": "CANCELED"}


def test_a_paid_order_with_a_canceled_line_keeps_o7s_fields_and_adds_its_status_and_the_amount_given_back() -> None:
    lines = [canceled_line(0), confirm_payload()["paymentOrderList"][1]]
    model = paid_read_model(confirm_payload(paymentOrderList=lines))
    assert list(model) == [*O7_KEYS, "orderStatus", "canceledAmount"]
    assert [line["status"] for line in model["paymentOrderList"]] == ["CANCELED", "SUCCESS"]
    assert (model["orderStatus"], model["canceledAmount"]) == ("PARTIAL_CANCELED", Decimal("1000.00"))
    assert model_json(model).endswith(b'"paymentDone":true,"orderStatus":"PARTIAL_CANCELED","canceledAmount":1000.00}')


def test_every_line_canceled_is_a_canceled_order_and_none_is_o7s_shape_alone() -> None:
    everything = paid_read_model(confirm_payload(paymentOrderList=[canceled_line(0), canceled_line(1)]))
    assert (everything["orderStatus"], everything["canceledAmount"]) == ("CANCELED", Decimal("3000.00"))
    assert list(paid_read_model(confirm_payload())) == O7_KEYS


def test_summary_fields_order_sends_are_not_trusted_but_derived_from_the_lines() -> None:
    model = paid_read_model(confirm_payload(orderStatus="CANCELED", canceledAmount=Decimal("9.99")))
    assert list(model) == O7_KEYS


@given(st.lists(st.sets(st.sampled_from(LINE_NOS)), max_size=4))
def test_cancels_applied_in_any_grouping_and_repeated_give_the_model_of_their_union(groups: list[set[int]]) -> None:
    model = paid_read_model(confirm_payload())
    for group in groups:
        model = with_cancels(model, group)
    union = set().union(*groups)
    assert model == with_cancels(paid_read_model(confirm_payload()), union)
    assert model_json(with_cancels(model, union)) == model_json(model)
    assert [line["paymentOrderNo"] for line in model["paymentOrderList"] if line["status"] == "CANCELED"] == [
        n for n in LINE_NOS if n in union
    ]


def test_the_seller_sales_keep_the_originals_names_with_the_net_amount_ascending_and_exact_money() -> None:
    fields = {
        b"2:paidCount": b"3", b"2:paidCents": b"600000", b"2:canceledCount": b"1", b"2:canceledCents": b"200000",
        b"2:name": "상품B".encode(),
        b"10:paidCount": b"1", b"10:paidCents": b"10", b"10:name": b"X",
        b"3:canceledCount": b"1", b"3:canceledCents": b"300000",  # canceled before its order arrived
        b"1:paidCount": b"1", b"1:paidCents": b"10", b"1:name": b"Y",
    }  # fmt: skip
    rows = sales_rows(fields)
    assert [(row["productNo"], row["amount"]) for row in rows] == [
        (3, Decimal("-3000.00")), (1, Decimal("0.10")), (10, Decimal("0.10")), (2, Decimal("4000.00")),
    ]  # fmt: skip
    assert rows[-1] == {
        "amount": Decimal("4000.00"), "productNo": 2, "productName": "상품B", "paidCount": 3,
        "paidAmount": Decimal("6000.00"), "canceledCount": 1, "canceledAmount": Decimal("2000.00"),
    }  # fmt: skip
    assert rows[0]["productName"] is None
    body = sales_body(fields)
    assert b'"amount":4000.00,"productNo":2' in body
    assert list(json.loads(body)) == [LIST]


def test_a_seller_nothing_was_sold_for_gets_an_empty_list() -> None:
    assert sales_body({}) == b'{"orderTotalAmountGroupingProductList":[]}'
