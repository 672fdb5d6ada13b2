"""A member's view of stored JSON hides the PSP's paymentKey (as order's own answers to members do), and nothing
else: names that spell the field cannot fool it, since stored JSON escapes every quote inside a string."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kiwishop.order_query.domain import hide_payment_keys, paid_read_model
from kiwishop.order_query.queries import list_body
from kiwishop.order_query.store import model_json
from tests.unit.order_query.test_read_model import confirm_payload

TRICKY = st.one_of(
    st.text(min_size=1, max_size=40),
    st.sampled_from(['"paymentKey":"x"', '\\"paymentKey\\":\\"x\\"', '","paymentKey":"k', "paymentKey", "\\"]),
)


def model(key: str | None, name: str, product: str) -> dict[str, Any]:
    raw = confirm_payload(paymentKey=key, orderName=name)
    raw["paymentOrderList"] = [{**line, "productName": product} for line in raw["paymentOrderList"]]
    return paid_read_model(raw)


@given(key=st.one_of(st.none(), st.text(min_size=1, max_size=30)), name=TRICKY, product=TRICKY)
def test_only_the_key_becomes_null_in_a_model_and_in_a_page(key: str | None, name: str, product: str) -> None:
    shown = model(key, name, product)
    hidden = {**shown, "paymentKey": None}
    assert hide_payment_keys(model_json(shown)) == model_json(hidden)
    page = list_body([model_json(shown), model_json(shown)], 7)
    assert hide_payment_keys(page) == list_body([model_json(hidden), model_json(hidden)], 7)
    assert json.loads(hide_payment_keys(page))["paymentEventList"][1]["orderName"] == name
