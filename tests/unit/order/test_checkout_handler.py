"""Checkout's rules against fakes of its ports: what is refused, what one order holds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiwishop.order.domain import CatalogProduct, OrderError, PaymentStatus
from kiwishop.order.handlers.checkout import checkout
from kiwishop.platform.errors import AppError
from tests.unit.order.fakes import FakeCatalog, FakeIds, FakePaymentStore

CATALOG = {
    1: CatalogProduct(1, 1, "A", "상품A", Decimal("1000.00")),
    2: CatalogProduct(2, 1, "B", "상품B", Decimal("2000.00")),
    3: CatalogProduct(3, 2, "C", "상품C", Decimal("3000.00")),
    10: CatalogProduct(10, 7, "X", "상품X", Decimal("0.10")),
}


async def test_missing_products_are_refused_listing_each_in_the_order_asked_and_nothing_is_stored() -> None:
    store, catalog = FakePaymentStore(), FakeCatalog(CATALOG)
    with pytest.raises(AppError) as refused:
        await checkout(store, catalog, FakeIds(), member_no=7, product_nos=[9, 1, 4, 9])
    assert refused.value.code is OrderError.NOT_EXIST_PRODUCT
    assert refused.value.params == {"missing": "9, 4"}
    assert refused.value.code.message("en", refused.value.params) == "Products do not exist: 9, 4"
    assert store.rows.payments == {}
    assert store.rows.history == []


async def test_a_total_that_is_not_whole_won_is_refused_and_nothing_is_stored() -> None:
    store = FakePaymentStore()
    with pytest.raises(AppError) as refused:
        await checkout(store, FakeCatalog(CATALOG), FakeIds(), member_no=7, product_nos=[1, 10])
    assert refused.value.code is OrderError.NON_INTEGER_AMOUNT
    assert refused.value.params == {"amount": Decimal("1000.10")}
    assert store.rows.payments == {}


async def test_an_order_has_one_line_per_distinct_product_in_the_order_asked() -> None:
    store, catalog = FakePaymentStore(), FakeCatalog(CATALOG)
    result = await checkout(store, catalog, FakeIds(), member_no=7, product_nos=[3, 1, 3, 2, 1])
    assert catalog.asked == [[3, 1, 2]]
    stored = store.stored(result.order_id)
    assert [line.product_no for line in stored.lines] == [3, 1, 2]
    assert [(line.seller_no, line.product_name, line.amount) for line in stored.lines] == [
        (2, "상품C", Decimal("3000.00")),
        (1, "상품A", Decimal("1000.00")),
        (1, "상품B", Decimal("2000.00")),
    ]
    assert {line.status for line in stored.lines} == {PaymentStatus.NOT_STARTED}
    assert len({line.payment_order_no for line in stored.lines}) == 3
    assert [(h.previous, h.new, h.reason, h.changed_by) for h in store.rows.history] == [
        (None, PaymentStatus.NOT_STARTED, "CHECKOUT", "api")
    ] * 3


async def test_the_result_is_the_stored_order_and_its_whole_won_total() -> None:
    store = FakePaymentStore()
    result = await checkout(store, FakeCatalog(CATALOG), FakeIds(), member_no=7, product_nos=[1, 2, 3])
    stored = store.stored(result.order_id)
    assert (result.payment_event_no, result.order_name, result.amount) == (
        stored.payment_event_no, stored.order_name, Decimal("6000.00"),
    )  # fmt: skip
    assert (stored.member_no, stored.total_amount, stored.payment_key, stored.is_payment_done) == (
        7, Decimal("6000.00"), None, False,
    )  # fmt: skip
    assert store.rows.events == []


@pytest.mark.parametrize(("product_nos", "name"), [([2], "상품B"), ([3, 1], "상품C 그외"), ([1, 2, 3], "상품A 그외")])
async def test_the_order_is_named_after_its_first_product(product_nos: list[int], name: str) -> None:
    result = await checkout(FakePaymentStore(), FakeCatalog(CATALOG), FakeIds(), member_no=1, product_nos=product_nos)
    assert result.order_name == name


async def test_every_order_gets_its_own_order_id() -> None:
    store, catalog = FakePaymentStore(), FakeCatalog(CATALOG)
    first = await checkout(store, catalog, FakeIds(1), member_no=1, product_nos=[1])
    second = await checkout(store, catalog, FakeIds(100), member_no=1, product_nos=[1])
    assert first.order_id != second.order_id
    assert set(store.rows.payments) == {first.order_id, second.order_id}
