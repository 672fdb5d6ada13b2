"""Toss webhooks, with changes made at the emulator without the shop (its approve-outside and cancel-outside
controls) and the webhook body the emulator sends: the shop reads the payment again at the PSP and moves the order
only forward; bad bodies are 400, unknown orders and forged bodies 200, and change nothing."""

from __future__ import annotations

from typing import Any

import httpx

from kiwishop.platform.db import Database
from tests.integration.order.cancel_support import (
    cancel,
    cancel_events,
    cancel_rows,
    canceled_at_psp,
    line_statuses,
    paid_order,
)
from tests.integration.order.payments import Emulator, as_buyer, checkout
from tests.integration.order.recovery_support import confirm_events

WEBHOOK = "/api/webhooks/toss"


def webhook(payment: dict[str, Any], event_type: str = "PAYMENT_STATUS_CHANGED") -> dict[str, Any]:
    return {"eventType": event_type, "createdAt": "2026-11-25T12:00:00+09:00", "data": payment}


async def outside(emulator: Emulator, payment_key: str, change: str, **body: Any) -> dict[str, Any]:
    response = await emulator.client.post(f"/emulator/payments/{payment_key}/{change}", json=body or None)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_an_approval_the_shop_never_confirmed_is_recorded_from_the_psps_word(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [1, 2])
    order_id = created["orderId"]
    key = await emulator.authorise(order_id, created["amount"], created["orderName"])
    payment = await outside(emulator, key, "approve-outside")  # the buyer's redirect never reached the shop
    stats = await emulator.stats()

    response = await paying_order.post(WEBHOOK, json=webhook(payment))

    assert response.status_code == 200, response.text
    assert response.json() == {"eventType": "PAYMENT_STATUS_CHANGED", "orderId": order_id, "result": "RECORDED"}
    result = (await paying_order.get(f"/api/payments/{order_id}", headers=as_buyer(order_id))).json()
    assert (result["status"], result["paymentKey"]) == ("SUCCESS", key)
    assert await confirm_events(order_db, order_id) == 1
    again = await paying_order.post(WEBHOOK, json=webhook(payment))
    assert again.json()["result"] == "UNCHANGED"
    after = await emulator.stats()
    assert (after["approved"], after["confirmRequests"]) == (stats["approved"], stats["confirmRequests"])
    assert await confirm_events(order_db, order_id) == 1


async def test_a_cancel_made_outside_the_shop_cancels_the_line_it_took_once(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    paid = await paid_order(paying_order, emulator, [1, 2, 3])
    order_id = paid["orderId"]
    payment = await outside(emulator, paid["paymentKey"], "cancel-outside", cancelAmount=2000, cancelReason="콘솔")

    response = await paying_order.post(WEBHOOK, json=webhook(payment))

    assert response.json()["result"] == "CANCELED"
    assert await line_statuses(order_db, order_id) == {1: "SUCCESS", 2: "CANCELED", 3: "SUCCESS"}
    assert await cancel_rows(order_db, order_id) == [(1, "DONE", None)]
    assert await cancel_events(order_db, order_id) == 1
    assert (await paying_order.post(WEBHOOK, json=webhook(payment))).json()["result"] == "UNCHANGED"
    before = await canceled_at_psp(emulator)

    rest = await cancel(paying_order, order_id)  # the shop cancels the rest itself: 4000 at the PSP

    assert rest.status_code == 200, rest.text
    assert (rest.json()["status"], rest.json()["cancelNo"], rest.json()["canceledAmount"]) == ("CANCELED", 2, 4000)
    assert await canceled_at_psp(emulator) == before + 1
    assert (await paying_order.post(WEBHOOK, json=webhook(payment))).json()["result"] == "UNCHANGED"
    assert await cancel_events(order_db, order_id) == 2


async def test_bad_bodies_are_400_and_forged_or_foreign_ones_change_nothing(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [1])
    order_id = created["orderId"]
    other = await paid_order(paying_order, emulator, [2])
    for body in ([], {}, {"eventType": "PAYMENT_STATUS_CHANGED"}, webhook({"orderId": order_id}),
                 webhook({"orderId": "bad id!", "paymentKey": "k"}), webhook("DONE")):  # fmt: skip
        response = await paying_order.post(WEBHOOK, json=body)
        assert (response.status_code, response.json()["code"]) == (400, "INVALID_REQUEST"), body
    garbage = await paying_order.post(WEBHOOK, content=b"{", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400
    forged = {"orderId": order_id, "paymentKey": "tgen_forged_key", "status": "DONE", "totalAmount": 1000}
    answers = [
        await paying_order.post(WEBHOOK, json=webhook({**forged, "orderId": "no-such-order-42"})),
        await paying_order.post(WEBHOOK, json=webhook(forged)),  # the PSP knows no such payment
        await paying_order.post(WEBHOOK, json=webhook({**forged, "paymentKey": other["paymentKey"]})),  # not ours
        await paying_order.post(WEBHOOK, json=webhook(forged, event_type="DEPOSIT_CALLBACK")),
    ]
    assert [(a.status_code, a.json()["result"]) for a in answers] == [
        (200, "UNKNOWN_ORDER"), (200, "NOT_THIS_ORDER"), (200, "NOT_THIS_ORDER"), (200, "IGNORED"),
    ]  # fmt: skip
    unchanged = await paying_order.get(f"/api/payments/{order_id}", headers=as_buyer(order_id))
    assert unchanged.json()["status"] == "NOT_STARTED"
    assert await line_statuses(order_db, other["orderId"]) == {2: "SUCCESS"}
    assert await cancel_rows(order_db, other["orderId"]) == []
