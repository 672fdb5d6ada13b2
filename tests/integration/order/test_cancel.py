"""Giving money back through the Toss emulator over HTTP: a line, then the rest, each once at the PSP, each with
one PAYMENT_CANCELED; what order's reads show of a cancelled order."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import text

from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from tests.integration.order.cancel_support import (
    cancel,
    cancel_events,
    cancel_rows,
    canceled_at_psp,
    paid_order,
    psp_payment,
    published_cancels,
)
from tests.integration.order.conftest import OrderTopics
from tests.integration.order.payments import Emulator, exact
from tests.support import as_member, as_ops, tokens


async def test_a_line_then_the_rest_are_given_back_once_each_at_the_psp_with_one_event_each(
    paying_order: httpx.AsyncClient,
    emulator: Emulator,
    order_db: Database,
    infra: InfraSettings,
    order_topics: OrderTopics,
) -> None:
    paid = await paid_order(paying_order, emulator, [1, 2, 3])
    order_id, lines = paid["orderId"], paid["lines"]
    canceled_before = await canceled_at_psp(emulator)

    first = await cancel(paying_order, order_id, [lines[2]])

    assert first.status_code == 200, first.text
    body = exact(first)
    assert (body["orderId"], body["status"], body["cancelNo"], body["cancelStatus"]) == (
        order_id, "PARTIAL_CANCELED", 1, "DONE",
    )  # fmt: skip
    assert body["paymentOrderNos"] == [lines[2]]
    assert (body["canceledAmount"], body["refundedAmount"], body["refundableAmount"]) == (
        Decimal("2000.00"), Decimal("2000.00"), Decimal("4000.00"),
    )  # fmt: skip
    assert body["canceledDateTime"].endswith("+09:00")
    assert [(line["productNo"], line["amount"], line["status"]) for line in body["lines"]] == [
        (1, Decimal("1000.00"), "SUCCESS"), (2, Decimal("2000.00"), "CANCELED"), (3, Decimal("3000.00"), "SUCCESS"),
    ]  # fmt: skip
    assert body["failure"] is None
    at_psp = await psp_payment(emulator, paid["paymentKey"])
    assert (at_psp["status"], at_psp["balanceAmount"]) == ("PARTIAL_CANCELED", 4000)
    assert await canceled_at_psp(emulator) == canceled_before + 1

    again = await cancel(paying_order, order_id, [lines[2]])

    assert again.status_code == 200
    assert exact(again) == body  # the stored result
    assert await canceled_at_psp(emulator) == canceled_before + 1  # no second cancel at the PSP
    assert await cancel_events(order_db, order_id) == 1

    rest = await cancel(paying_order, order_id, reason="전체 취소")

    assert rest.status_code == 200, rest.text
    body = exact(rest)
    assert (body["status"], body["cancelNo"], body["paymentOrderNos"]) == ("CANCELED", 2, [lines[1], lines[3]])
    assert (body["canceledAmount"], body["refundedAmount"], body["refundableAmount"]) == (
        Decimal("4000.00"), Decimal("6000.00"), Decimal("0.00"),
    )  # fmt: skip
    at_psp = await psp_payment(emulator, paid["paymentKey"])
    assert (at_psp["status"], at_psp["balanceAmount"], len(at_psp["cancels"])) == ("CANCELED", 0, 2)
    assert await canceled_at_psp(emulator) == canceled_before + 2
    assert await cancel_rows(order_db, order_id) == [(1, "DONE", None), (2, "DONE", None)]
    assert (await cancel(paying_order, order_id)).status_code == 200  # cancelling a cancelled order again: stored
    assert await canceled_at_psp(emulator) == canceled_before + 2

    events = await published_cancels(infra, order_db, order_topics.payment, order_id)
    assert [e.payload["cancelNo"] for e in events] == [1, 2]
    first_event, second_event = (e.payload for e in events)
    assert first_event == {
        "paymentEventNo": paid["paymentEventNo"], "memberNo": 1, "orderId": order_id, "paymentKey": paid["paymentKey"],
        "cancelNo": 1, "cancelReason": "단순 변심", "canceledDateTime": first_event["canceledDateTime"],
        "cancelAmount": Decimal("2000.00"),
        "lines": [{"paymentOrderNo": lines[2], "productNo": 2, "sellerNo": 1, "amount": Decimal("2000.00")}],
        "orderStatus": "PARTIAL_CANCELED",
    }  # fmt: skip
    assert str(first_event["canceledDateTime"]).endswith("+09:00")
    assert (second_event["orderStatus"], second_event["cancelAmount"]) == ("CANCELED", Decimal("4000.00"))
    assert [line["productNo"] for line in second_event["lines"]] == [1, 3]


async def test_the_reads_show_cancelled_lines_and_the_orders_status_in_their_usual_shapes(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    member = 717171
    paid = await paid_order(paying_order, emulator, [1, 2, 3], member=member)
    order_id = paid["orderId"]
    assert (await cancel(paying_order, order_id, [paid["lines"][2]])).status_code == 200

    mine = as_member(member)
    result = (await paying_order.get(f"/api/payments/{order_id}", headers=mine)).json()
    assert list(result) == ["orderId", "status", "paymentKey", "approvedAt", "amount", "failure"]
    assert (result["status"], result["paymentKey"], result["failure"]) == ("PARTIAL_CANCELED", paid["paymentKey"], None)
    lines = (await paying_order.get("/api/orders", params={"orderId": order_id}, headers=mine)).json()
    assert [(line["productNo"], line["status"]) for line in lines["paymentOrderList"]] == [
        (1, "SUCCESS"), (2, "CANCELED"), (3, "SUCCESS"),
    ]  # fmt: skip
    page = (await paying_order.get(f"/api/orders/members/{member}", headers=mine)).json()
    [event] = page["paymentEventList"]
    assert event["paymentDone"] is True
    assert [line["status"] for line in event["paymentOrderList"]] == ["SUCCESS", "CANCELED", "SUCCESS"]
    assert event["paymentKey"] is None  # the PSP's key is for ops
    one = await paying_order.get(f"/api/orders/payment-events/{paid['paymentEventNo']}/members/{member}", headers=mine)
    assert one.json() == event
    as_operator = await paying_order.get(f"/api/orders/members/{member}", headers=as_ops())
    assert as_operator.json()["paymentEventList"] == [{**event, "paymentKey": paid["paymentKey"]}]
    confirmed_again = await paying_order.post(
        "/api/payments/confirm",
        json={"paymentKey": paid["paymentKey"], "orderId": order_id, "amount": str(paid["amount"])},
        headers=mine,
    )
    assert confirmed_again.status_code == 200  # a paid order, cancelled since: its stored result
    assert confirmed_again.json()["status"] == "PARTIAL_CANCELED"
    params = {"paymentKey": paid["paymentKey"], "orderId": order_id, "amount": str(paid["amount"])}
    paying_order.cookies.set("kiwi_session", tokens().member(member))  # the buyer's page login
    page = (await paying_order.get("/success", params=params)).text
    assert "결제 성공" in page
    assert "일부 취소됨" in page
    assert "결제 확인 중" not in page  # never polled as if in doubt
    async with order_db.engine.connect() as conn:
        history = await conn.execute(
            text(
                "SELECT h.previous_status, h.new_status, h.reason FROM payment_order_histories h"
                " JOIN payment_orders o USING (payment_order_no) WHERE o.order_id = :o AND o.product_no = 2"
                " ORDER BY h.payment_order_history_no"
            ),
            {"o": order_id},
        )
        assert [tuple(r) for r in history][-1] == ("SUCCESS", "CANCELED", "PSP_CANCELED:1")
