"""Reading PAYMENT_CANCELED (``domain.parse_payment_canceled``): what order sends (tests/payloads.py, checked
against ``PaymentCanceledV1``) and the docs' example are read exactly; whatever could debit the wrong amount or
the wrong seller is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kiwishop.platform import jsonutil
from kiwishop.wallet.domain import (
    CANCELED,
    CanceledOrder,
    InvalidPayload,
    PaymentLine,
    debit_key,
    parse_payment_canceled,
)
from tests.payloads import ConfirmLine, payment_canceled

DOCS_EXAMPLE = """{
  "paymentEventNo": 138410375617249280, "memberNo": 1, "orderId": "4f1d3a0c-6b7e-4f0a-9a59-5d1c2b3e4f60",
  "paymentKey": "tgen_20261125114058aBcD1", "cancelNo": 1, "cancelReason": "고객 변심",
  "canceledDateTime": "2026-11-25T12:10:58+09:00", "cancelAmount": 2000.00,
  "lines": [
    {"paymentOrderNo": 138410375617249282, "productNo": 2, "sellerNo": 1, "amount": 2000.00}
  ],
  "orderStatus": "PARTIAL_CANCELED"
}"""
ORDER = [ConfirmLine(901, 7, "0.10"), ConfirmLine(902, 8, "2500.00"), ConfirmLine(903, 8, "1234.50")]


def test_the_docs_example_is_read_exactly() -> None:
    cancel = parse_payment_canceled(jsonutil.loads(DOCS_EXAMPLE))
    assert cancel == CanceledOrder(
        "4f1d3a0c-6b7e-4f0a-9a59-5d1c2b3e4f60", 1, (PaymentLine(138410375617249282, 1, Decimal("2000.00"), CANCELED),)
    )
    assert debit_key(cancel.order_id, 138410375617249282) == (
        "debit:4f1d3a0c-6b7e-4f0a-9a59-5d1c2b3e4f60:138410375617249282"
    )


def test_what_order_sends_is_read_line_by_line_with_exact_money() -> None:
    event = payment_canceled("order-c1", ORDER, ORDER[1:], cancel_no=2, earlier=ORDER[:1])
    assert (event.type, event.key, event.payload["orderStatus"]) == ("PAYMENT_CANCELED", "order-c1", "CANCELED")
    assert event.payload["cancelAmount"] == Decimal("3734.50")
    cancel = parse_payment_canceled(event.payload)
    assert (cancel.order_id, cancel.cancel_no) == ("order-c1", 2)
    assert cancel.lines == (
        PaymentLine(902, 8, Decimal("2500.00"), CANCELED),
        PaymentLine(903, 8, Decimal("1234.50"), CANCELED),
    )
    partial = payment_canceled("order-c2", ORDER, ORDER[:1])
    assert partial.payload["orderStatus"] == "PARTIAL_CANCELED"
    assert parse_payment_canceled(partial.payload).lines == (PaymentLine(901, 7, Decimal("0.10"), CANCELED),)


def _line(**changes: Any) -> dict[str, Any]:
    return {"paymentOrderNo": 1, "productNo": 1, "sellerNo": 7, "amount": Decimal("10.00"), **changes}


def _cancel(**changes: Any) -> dict[str, Any]:
    payload = dict(jsonutil.loads(DOCS_EXAMPLE))
    payload |= {"lines": [_line()], "cancelAmount": Decimal("10.00")}
    return payload | changes


@pytest.mark.parametrize(
    "payload",
    [
        _cancel(orderId=""),
        _cancel(orderId=7),
        {k: v for k, v in _cancel().items() if k != "orderId"},
        _cancel(cancelNo=0),
        {k: v for k, v in _cancel().items() if k != "cancelNo"},
        _cancel(lines=[]),
        _cancel(lines=None),
        _cancel(lines=["x"]),
        _cancel(lines=[_line(amount=10.0)]),  # a float never holds money
        _cancel(lines=[_line(amount="10.00")]),
        _cancel(lines=[_line(amount=Decimal("-10.00"))], cancelAmount=Decimal("-10.00")),
        _cancel(lines=[_line(amount=Decimal("10.001"))], cancelAmount=Decimal("10.001")),
        _cancel(lines=[_line(sellerNo=None)]),
        _cancel(lines=[_line(sellerNo=True)]),
        _cancel(lines=[{k: v for k, v in _line().items() if k != "paymentOrderNo"}]),
        _cancel(lines=[_line(), _line()], cancelAmount=Decimal("20.00")),  # one line twice
        _cancel(cancelAmount=Decimal("9.99")),  # not the sum of the lines
        _cancel(cancelAmount=None),
    ],
)
def test_a_payload_that_could_debit_the_wrong_amount_or_seller_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidPayload):
        parse_payment_canceled(payload)


def test_fields_wallet_does_not_use_are_not_its_business() -> None:
    payload = _cancel(cancelReason=None, orderStatus="SOMETHING_NEW", paymentKey=None, canceledDateTime=None)
    assert parse_payment_canceled(payload).lines == (PaymentLine(1, 7, Decimal("10.00"), CANCELED),)
