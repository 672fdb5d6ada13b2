"""A cancel made at order (``POST /api/payments/{orderId}/cancel``, the Toss emulator giving the money back)
reaches order-query through order's outbox: the detail shows the line CANCELED exactly as order's O7 does —
same fields, same line status strings — plus the order's status and the amount given back, and the seller
sales take the line out once."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from redis.asyncio import Redis

from kiwishop.contracts.topics import PAYMENT
from kiwishop.order_query.app import create_app
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.platform.settings import InfraSettings
from tests.integration.order_query.conftest import OrderServer
from tests.integration.order_query.shop import Shop, exact
from tests.support import as_member, as_seller, consumed_past, eventually, read_to_end, running_app


async def caught_up(infra: InfraSettings, settings: OrderQuerySettings) -> None:
    """order-query consumed every record the payment topic holds now."""
    last = {record.partition: record for record in await read_to_end(infra, PAYMENT)}
    for record in last.values():
        await consumed_past(infra, settings.consumer_group, record)


def product_row(body: bytes, product_no: int) -> dict[str, Any]:
    rows = json.loads(body, parse_float=Decimal)["orderTotalAmountGroupingProductList"]
    return next(row for row in rows if row["productNo"] == product_no)


async def test_a_cancel_at_order_shows_in_the_detail_as_order_shows_it_and_in_the_seller_sales_once(
    shop: Shop, order_server: OrderServer, oq_settings: Callable[..., OrderQuerySettings], redis: Redis,
    oq_infra: InfraSettings,
) -> None:  # fmt: skip
    member = random.randint(10**9, 10**12)
    settings = oq_settings(order_url=order_server.url)
    detail_path = ""
    mine, seller = as_member(member), as_seller(1)
    async with running_app(create_app(settings)) as oq:
        number = await shop.pay(member, (1, 2, 3))
        detail_path = f"/api/orders/payment-events/{number}/members/{member}"
        order = exact(await shop.order.get(detail_path, headers=mine))
        await caught_up(oq_infra, settings)
        before = product_row((await oq.get("/api/orders/sellers/1", headers=seller)).content, 2)
        line = next(line for line in order["paymentOrderList"] if line["productNo"] == 2)
        canceled = await shop.order.post(
            f"/api/payments/{order['orderId']}/cancel",
            json={"cancelReason": "고객 변심", "paymentOrderNos": [line["paymentOrderNo"]]},
            headers=mine,
        )
        assert canceled.status_code == 200, canceled.text
        shown = await eventually(
            lambda: oq.get(detail_path, headers=mine), lambda r: b'"status":"CANCELED"' in r.content, timeout_s=30
        )
        await caught_up(oq_infra, settings)
        after = product_row((await oq.get("/api/orders/sellers/1", headers=seller)).content, 2)
        theirs = await shop.order.get(detail_path, headers=mine)
    assert [item["status"] for item in exact(theirs)["paymentOrderList"]] == ["SUCCESS", "CANCELED", "SUCCESS"]
    summary = b',"orderStatus":"PARTIAL_CANCELED","canceledAmount":2000.00}'
    assert shown.content == theirs.content[:-1] + summary  # order's O7, byte for byte, and the summary
    assert (after["canceledCount"], after["canceledAmount"]) == (
        before["canceledCount"] + 1,
        before["canceledAmount"] + Decimal("2000.00"),
    )
    assert (after["paidCount"], after["amount"]) == (before["paidCount"], before["amount"] - Decimal("2000.00"))
