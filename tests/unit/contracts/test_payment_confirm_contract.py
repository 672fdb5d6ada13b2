"""PAYMENT_CONFIRM ties order to its consumers: what order really produces (``order.domain.payment_confirmed``
over an order's rows, through the outbox's encoding) matches the contract (``PaymentConfirmV1``), and every
consumer's own parser reads from it the amounts, sellers and products order meant.

The consumers' tests build their events with ``tests.payloads.payment_confirm`` (this same producer path), so
a change of the payload on either side fails here or there, not in production."""

from __future__ import annotations

import ast
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from kiwishop.contracts.events import PAYMENT_CONFIRM
from kiwishop.hot_catalog.domain import paid_lines
from kiwishop.order.domain import confirm_payload, payment_confirmed
from kiwishop.order_query.domain import paid_read_model
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.domain import PaymentLine, parse_payment_confirm
from tests.payloads import ConfirmLine, check_payment_confirm, on_the_wire, paid_order, payment_confirm

SRC = Path(__file__).resolve().parents[3] / "src" / "kiwishop"
# An order of three sellers, with cents and two lines of one product: what consumers must keep apart.
LINES = [
    ConfirmLine(901, seller_no=7, amount="0.10", product_no=10, product_name="상품X"),
    ConfirmLine(902, seller_no=8, amount="2500.00", product_no=11, product_name="상품Y"),
    ConfirmLine(903, seller_no=9, amount="1234.50", product_no=12, product_name="상품Z"),
    ConfirmLine(904, seller_no=9, amount="1234.50", product_no=12, product_name="상품Z"),
]
TOTAL = Decimal("4969.10")
LINES_PAYLOAD = confirm_payload(paid_order("order-contract-3", LINES))["paymentOrderList"]


@pytest.fixture
def produced() -> dict[str, object]:
    """The payload a consumer decodes from order's PAYMENT_CONFIRM of the order above."""
    envelope = payment_confirm("order-contract-1", LINES, payment_event_no=555, member_no=42, payment_key="tgen_c1")
    assert envelope.type == PAYMENT_CONFIRM.name
    assert envelope.key == "order-contract-1"  # keyed by orderId: one order's events stay in order
    return envelope.payload


def test_what_order_produces_is_the_contracts_shape_with_exact_money(produced: dict[str, object]) -> None:
    check_payment_confirm(produced)
    assert produced["totalAmount"] == TOTAL
    assert produced["paymentDone"] is True
    assert produced["approvedDateTime"] == "2026-11-25T11:40:58+09:00"  # Asia/Seoul
    for line in produced["paymentOrderList"]:  # type: ignore[attr-defined]
        amount = line["amount"]
        assert isinstance(amount, Decimal)
        assert amount == amount.quantize(Decimal("0.01"))  # a JSON number with two decimals


def test_the_contract_check_refuses_what_consumers_could_misread() -> None:
    payload = dict(on_the_wire(payment_confirm("order-contract-2", LINES)).payload)
    for broken in (
        {"totalAmount": 4969.1},  # a float: money must arrive exact
        {"totalAmount": "4969.10"},  # a string is not the contract's JSON number
        {"paymentEventNo": "555"},
        {"paymentDone": "true"},
        {"paymentOrderList": [{**LINES_PAYLOAD[0], "sellerNo": None}]},
        {"paymentOrderList": [{k: v for k, v in LINES_PAYLOAD[0].items() if k != "sellerNo"}]},
        {"extra": 1},
    ):
        with pytest.raises(ValueError):
            check_payment_confirm({**payload, **broken})
    missing = {k: v for k, v in payload.items() if k != "orderId"}
    with pytest.raises(ValueError):
        check_payment_confirm(missing)


def test_wallet_credits_each_seller_its_own_lines(produced: dict[str, object]) -> None:
    order = parse_payment_confirm(produced)
    assert order.order_id == "order-contract-1"
    assert order.credited_lines() == [
        PaymentLine(901, 7, Decimal("0.10"), "SUCCESS"),
        PaymentLine(902, 8, Decimal("2500.00"), "SUCCESS"),
        PaymentLine(903, 9, Decimal("1234.50"), "SUCCESS"),
        PaymentLine(904, 9, Decimal("1234.50"), "SUCCESS"),
    ]
    by_seller: Counter[int] = Counter()
    for line in order.credited_lines():
        by_seller[line.seller_no] += line.amount  # type: ignore[assignment]
    assert dict(by_seller) == {7: Decimal("0.10"), 8: Decimal("2500.00"), 9: Decimal("2469.00")}
    assert sum(by_seller.values()) == TOTAL


def test_order_query_keeps_the_order_as_o7_shows_it(produced: dict[str, object]) -> None:
    model = paid_read_model(produced)
    assert (model["paymentEventNo"], model["memberNo"], model["orderId"], model["paymentKey"]) == (
        555, 42, "order-contract-1", "tgen_c1",
    )  # fmt: skip
    assert model["approvedDateTime"] == "2026-11-25T11:40:58+09:00"
    assert [(line["paymentOrderNo"], line["productNo"], line["amount"]) for line in model["paymentOrderList"]] == [
        (901, 10, Decimal("0.10")), (902, 11, Decimal("2500.00")), (903, 12, Decimal("1234.50")),
        (904, 12, Decimal("1234.50")),
    ]  # fmt: skip
    assert sum(line["amount"] for line in model["paymentOrderList"]) == TOTAL


def test_hot_catalog_counts_every_paid_line_of_a_product(produced: dict[str, object]) -> None:
    assert paid_lines(produced) == {10: 1, 11: 1, 12: 2}


def test_an_event_sent_again_has_the_same_event_id_and_payload() -> None:
    """Order re-publishes PAYMENT_CONFIRM (settlement heals itself) from the order's rows under its recorded
    eventId: every consumer's dedupe by eventId holds only if both are the same."""
    payment = paid_order("order-contract-4", LINES)
    first, again = (payment_confirmed(payment) for _ in range(2))
    assert first.event_id is not None
    sent = [on_the_wire(Envelope(e.event_id or 0, e.type, e.payload, e.key)) for e in (first, again)]
    assert (sent[0].event_id, sent[0].payload) == (sent[1].event_id, sent[1].payload)


def _names_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def test_these_are_all_the_consumers_of_payment_confirm() -> None:
    """A service that starts consuming PAYMENT_CONFIRM must get its case above."""
    producer_and_tools = {"order", "contracts", "platform", "ops", "toss_emulator"}
    consumers = {
        package.name
        for package in SRC.iterdir()
        if package.is_dir() and package.name not in producer_and_tools and not package.name.startswith("_")
        if any("PAYMENT_CONFIRM" in _names_in(module) for module in package.glob("*.py"))
    }
    assert consumers == {"wallet", "order_query", "hot_catalog"}
