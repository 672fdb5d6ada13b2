"""Who may do what at order (8080): no token is a 401 everywhere but the PSP's webhook; checkout and confirm are
the buyer's own; an order's cancel and reads are its buyer's or ops'; a member's history is theirs or ops', and
only ops sees the PSP's paymentKey in it. A refusal writes nothing and asks the PSP nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.integration.order.cancel_support import cancel_rows, canceled_at_psp, line_statuses, paid_order
from tests.integration.order.payments import Emulator, checkout, exact
from tests.support import as_member, as_ops, as_seller

BUYER, OTHER = 818181, 818182
NOT_A_TOKEN = {"Authorization": "Bearer not-a-token"}


async def count(db: Database, sql: str, **params: object) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


def assert_refused(response: httpx.Response, status: int) -> None:
    code = {401: "AUTH0001", 403: "AUTH0002"}[status]
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


async def test_without_a_valid_token_every_route_but_the_webhook_is_401_and_writes_nothing(
    order: httpx.AsyncClient, order_db: Database
) -> None:
    created = await checkout(order, [1], member=BUYER)
    order_id, number = created["orderId"], created["paymentEventNo"]
    confirm = {"paymentKey": "tgen_x", "orderId": order_id, "amount": "1000"}
    calls = [
        ("POST", "/api/checkout", {"memberNo": BUYER, "productNoList": [1]}),
        ("POST", "/api/payments/confirm", confirm),
        ("POST", f"/api/payments/{order_id}/cancel", {"cancelReason": "x"}),
        ("GET", f"/api/payments/{order_id}", None),
        ("GET", f"/api/orders?orderId={order_id}", None),
        ("GET", f"/api/orders/members/{BUYER}", None),
        ("GET", f"/api/orders/payment-events/{number}/members/{BUYER}", None),
    ]
    before = await count(order_db, "SELECT COUNT(*) FROM payment_order_histories")
    for method, path, body in calls:
        for headers in ({}, NOT_A_TOKEN, {"Authorization": "Basic eDp5"}):
            assert_refused(await order.request(method, path, json=body, headers=headers), 401)
    webhook = {"eventType": "PAYMENT_STATUS_CHANGED", "data": {"paymentKey": "tgen_x", "orderId": "no-such-order"}}
    answered = await order.post("/api/webhooks/toss", json=webhook)  # the PSP has no token: it stays open
    assert (answered.status_code, answered.json()["result"]) == (200, "UNKNOWN_ORDER")
    assert await count(order_db, "SELECT COUNT(*) FROM payment_events WHERE member_no = :m", m=BUYER) == 1
    assert await count(order_db, "SELECT COUNT(*) FROM payment_order_histories") == before


@pytest.mark.parametrize("who", ["another member", "a seller", "ops"])
async def test_a_checkout_for_anyone_but_the_tokens_member_is_403_and_creates_no_order(
    order: httpx.AsyncClient, order_db: Database, who: str
) -> None:
    headers = {"another member": as_member(OTHER), "a seller": as_seller(1), "ops": as_ops()}[who]
    before = await count(order_db, "SELECT COUNT(*) FROM payment_events")
    response = await order.post("/api/checkout", json={"memberNo": BUYER, "productNoList": [1, 2]}, headers=headers)
    assert_refused(response, 403)
    assert await count(order_db, "SELECT COUNT(*) FROM payment_events") == before


@pytest.mark.parametrize("who", ["another member", "a seller", "ops"])
async def test_a_confirm_of_another_members_order_is_403_without_asking_the_psp_or_writing(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database, who: str
) -> None:
    created = await checkout(paying_order, [1, 2], member=BUYER)
    key = await emulator.authorise(created["orderId"], created["amount"])
    asked_before, approved_before = await emulator.confirm_requests(), await emulator.approved()
    headers = {"another member": as_member(OTHER), "a seller": as_seller(1), "ops": as_ops()}[who]
    body = {"paymentKey": key, "orderId": created["orderId"], "amount": str(created["amount"])}

    response = await paying_order.post("/api/payments/confirm", json=body, headers=headers)

    assert_refused(response, 403)
    assert (await emulator.confirm_requests(), await emulator.approved()) == (asked_before, approved_before)
    assert await line_statuses(order_db, created["orderId"]) == {1: "NOT_STARTED", 2: "NOT_STARTED"}
    histories = "SELECT COUNT(*) FROM payment_order_histories h JOIN payment_orders o USING (payment_order_no) "
    assert await count(order_db, histories + "WHERE o.order_id = :o", o=created["orderId"]) == 2  # CHECKOUT only
    unknown = await paying_order.post("/api/payments/confirm", json={**body, "orderId": "no-such-order-42"},
                                      headers=as_member(OTHER))  # fmt: skip
    assert (unknown.status_code, unknown.json()["code"]) == (404, "PEC0004")  # as before: no such order
    mine = await paying_order.post("/api/payments/confirm", json=body, headers=as_member(BUYER))
    assert (mine.status_code, mine.json()["status"]) == (200, "SUCCESS")
    assert await emulator.approved() == approved_before + 1


async def test_an_orders_cancel_is_its_buyers_or_ops_never_a_sellers_or_another_members(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    paid = await paid_order(paying_order, emulator, [1, 2, 3], member=BUYER)
    order_id, lines = paid["orderId"], paid["lines"]
    path = f"/api/payments/{order_id}/cancel"
    canceled_before = await canceled_at_psp(emulator)
    for headers in (as_member(OTHER), as_seller(1)):
        assert_refused(await paying_order.post(path, json={"cancelReason": "x"}, headers=headers), 403)
    assert_refused(await paying_order.post("/api/payments/no-such-order/cancel", json={"cancelReason": "x"},
                                           headers=as_seller(1)), 403)  # fmt: skip
    assert await canceled_at_psp(emulator) == canceled_before
    assert await cancel_rows(order_db, order_id) == []
    assert await line_statuses(order_db, order_id) == {1: "SUCCESS", 2: "SUCCESS", 3: "SUCCESS"}

    by_buyer = await paying_order.post(path, json={"cancelReason": "x", "paymentOrderNos": [lines[1]]},
                                       headers=as_member(BUYER))  # fmt: skip
    by_ops = await paying_order.post(path, json={"cancelReason": "고객 요청", "paymentOrderNos": [lines[2]]},
                                     headers=as_ops())  # fmt: skip
    assert [(r.status_code, exact(r)["cancelStatus"]) for r in (by_buyer, by_ops)] == [(200, "DONE"), (200, "DONE")]
    assert await canceled_at_psp(emulator) == canceled_before + 2


async def test_one_orders_reads_are_its_buyers_or_ops(paying_order: httpx.AsyncClient, emulator: Emulator) -> None:
    paid = await paid_order(paying_order, emulator, [1, 2], member=BUYER)
    for path in (f"/api/payments/{paid['orderId']}", f"/api/orders?orderId={paid['orderId']}"):
        for headers in (as_member(OTHER), as_seller(1)):
            assert_refused(await paying_order.get(path, headers=headers), 403)
        mine, ops = [await paying_order.get(path, headers=h) for h in (as_member(BUYER), as_ops())]
        assert (mine.status_code, ops.status_code) == (200, 200)
        assert exact(mine) == exact(ops)
    assert_refused(await paying_order.get("/api/payments/no-such-order", headers=as_seller(1)), 403)


async def test_a_members_history_is_theirs_or_ops_and_only_ops_sees_the_payment_key(
    paying_order: httpx.AsyncClient, emulator: Emulator
) -> None:
    paid = await paid_order(paying_order, emulator, [3], member=BUYER)
    page_path = f"/api/orders/members/{BUYER}"
    one_path = f"/api/orders/payment-events/{paid['paymentEventNo']}/members/{BUYER}"
    for path in (page_path, one_path):
        for headers in (as_member(OTHER), as_seller(1)):
            assert_refused(await paying_order.get(path, headers=headers), 403)

    def events(response: httpx.Response) -> list[dict[str, Any]]:
        assert response.status_code == 200, response.text
        body = exact(response)
        return list(body["paymentEventList"]) if "paymentEventList" in body else [body]

    mine = events(await paying_order.get(page_path, headers=as_member(BUYER)))
    ops = events(await paying_order.get(page_path, headers=as_ops()))
    assert [e["paymentEventNo"] for e in mine] == [paid["paymentEventNo"]]
    assert [e["paymentKey"] for e in mine] == [None]  # the field stays, empty
    assert ops == [{**mine[0], "paymentKey": paid["paymentKey"]}]
    assert events(await paying_order.get(one_path, headers=as_member(BUYER))) == mine
    assert events(await paying_order.get(one_path, headers=as_ops())) == ops
