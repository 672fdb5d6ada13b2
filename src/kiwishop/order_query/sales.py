"""Seller sales — the original V1's ``GET /api/orders/sellers/{sellerNo}``: per product of a seller, what was
paid, what was given back, and the difference.

Kept in one Redis hash per seller (``store.Keys.sales``) by the scripts that apply the events, in the same
call that dedupes them (``lua.APPLY``, ``lua.CANCEL``): an order's lines count as paid once (its ``…:sold``
marker), and each line as canceled once (when it enters the order's canceled set), so redelivery, re-published
events and any order of arrival give the same sums. Fields per product, money in integer minor units:
``{productNo}:paidCount``, ``:paidCents``, ``:canceledCount``, ``:canceledCents``, and ``:name`` (the
product's name in its latest PAYMENT_CONFIRM; a cancel carries none).

The answer keeps the original's shape and names — ``{"orderTotalAmountGroupingProductList": [{"amount",
"productNo"}, …]}``, ascending ``amount`` — where ``amount`` is now the net (paid less canceled) in exact
decimals, ties by ascending ``productNo``, and adds ``productName``, ``paidCount``, ``paidAmount``,
``canceledCount``, ``canceledAmount``. A seller nothing was sold for gets an empty list.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kiwishop.platform import jsonutil

LIST = "orderTotalAmountGroupingProductList"


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def sales_rows(fields: Mapping[bytes, bytes]) -> list[dict[str, Any]]:
    """The seller's hash as the answer's rows, ascending net amount, then productNo."""
    products: dict[int, dict[str, bytes]] = {}
    for name, value in fields.items():
        product, _, field = name.decode().partition(":")
        products.setdefault(int(product), {})[field] = value
    rows = []
    for product_no, values in products.items():
        paid, canceled = int(values.get("paidCents", 0)), int(values.get("canceledCents", 0))
        product_name = values.get("name")
        rows.append(
            {
                "amount": money(paid - canceled),
                "productNo": product_no,
                "productName": None if product_name is None else product_name.decode(),
                "paidCount": int(values.get("paidCount", 0)),
                "paidAmount": money(paid),
                "canceledCount": int(values.get("canceledCount", 0)),
                "canceledAmount": money(canceled),
            }
        )
    rows.sort(key=lambda row: (row["amount"], row["productNo"]))
    return rows


def sales_body(fields: Mapping[bytes, bytes]) -> bytes:
    return jsonutil.dumps({LIST: sales_rows(fields)})
