"""Checkout: ask catalog for the products (outside any transaction), then one transaction for the order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from kiwishop.order.domain import Line, OrderError, Payment, PaymentStatus, order_name
from kiwishop.order.ports import IdSource, PaymentStore, ProductCatalog
from kiwishop.platform.errors import AppError


@dataclass(frozen=True)
class CheckoutResult:
    payment_event_no: int
    order_id: str
    order_name: str
    amount: Decimal


async def checkout(
    store: PaymentStore, catalog: ProductCatalog, ids: IdSource, *, member_no: int, product_nos: list[int]
) -> CheckoutResult:
    wanted = list(dict.fromkeys(product_nos))  # one line per product, in the order asked
    found = await catalog.find(wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        raise AppError(OrderError.NOT_EXIST_PRODUCT, missing=", ".join(map(str, missing)))
    products = [found[n] for n in wanted]
    total = sum((p.price for p in products), Decimal("0.00"))
    if total != total.to_integral_value():
        raise AppError(OrderError.NON_INTEGER_AMOUNT, amount=total)
    payment = Payment(
        payment_event_no=ids.next_id(),
        member_no=member_no,
        order_id=str(uuid.uuid4()),
        order_name=order_name([p.name for p in products]),
        total_amount=total,
        payment_key=None,
        approved_at=None,
        is_payment_done=False,
        is_wallet_done=False,
        failure_code=None,
        failure_message=None,
        lines=[
            Line(ids.next_id(), p.product_no, p.seller_no, p.name, p.price, PaymentStatus.NOT_STARTED) for p in products
        ],
    )
    async with store.transaction() as tx:
        await tx.insert(payment)
        await tx.commit()
    return CheckoutResult(payment.payment_event_no, payment.order_id, payment.order_name, total)
