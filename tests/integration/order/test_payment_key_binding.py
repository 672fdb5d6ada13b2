"""A paymentKey is bound to an order only when the PSP vouches for it: a mistyped, made-up or another order's
key never changes the real order's fate — the order stays payable with the buyer's real key, and nothing is
charged twice (against the emulator over HTTP)."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.integration.order.payments import Emulator, checkout, confirm, exact

SELECT = "SELECT payment_key, pending_payment_key, is_payment_done FROM payment_events WHERE order_id = :o"


async def payment_row(db: Database, order_id: str) -> dict[str, object]:
    async with db.engine.connect() as conn:
        row = (await conn.execute(text(SELECT), {"o": order_id})).one()
    return dict(row._mapping)


async def test_a_made_up_key_is_refused_and_the_buyers_real_key_then_pays_the_order_once(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [1])
    order_id, amount = created["orderId"], created["amount"]
    real_key = await emulator.authorise(order_id, amount)
    approved_before = await emulator.approved()

    hostile = await confirm(paying_order, "tgen_made_up_key_0000", order_id, amount)
    assert hostile.status_code == 400, hostile.text
    assert hostile.json()["code"] == "PEC0010"
    assert await payment_row(order_db, order_id) == {"payment_key": None, "pending_payment_key": None,
                                                      "is_payment_done": 0}  # fmt: skip

    paid = await confirm(paying_order, real_key, order_id, amount)
    assert paid.status_code == 200, paid.text
    assert (exact(paid)["status"], exact(paid)["paymentKey"]) == ("SUCCESS", real_key)
    assert await emulator.approved() == approved_before + 1


async def test_another_orders_key_is_refused_and_both_orders_are_then_paid_with_their_own_keys(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    victim, other = await checkout(paying_order, [1]), await checkout(paying_order, [2])
    victim_key = await emulator.authorise(victim["orderId"], victim["amount"])
    other_key = await emulator.authorise(other["orderId"], other["amount"])
    approved_before = await emulator.approved()

    # Someone who learned the victim's paymentKey confirms their own order with it (the amount matches theirs).
    hostile = await confirm(paying_order, victim_key, other["orderId"], other["amount"])
    assert hostile.status_code == 400, hostile.text
    assert hostile.json()["code"] == "PEC0010"
    assert (await payment_row(order_db, other["orderId"]))["payment_key"] is None

    for order, key in ((victim, victim_key), (other, other_key)):
        answer = await confirm(paying_order, key, order["orderId"], order["amount"])
        assert answer.status_code == 200, answer.text
        assert (exact(answer)["status"], exact(answer)["paymentKey"]) == ("SUCCESS", key)
    assert await emulator.approved() == approved_before + 2

    # A paid order's key used on another order later: refused again, nothing changes.
    late = await checkout(paying_order, [1])
    replay = await confirm(paying_order, victim_key, late["orderId"], late["amount"])
    assert replay.status_code == 400, replay.text
    assert (await payment_row(order_db, late["orderId"]))["pending_payment_key"] is None
    assert (await payment_row(order_db, victim["orderId"]))["payment_key"] == victim_key
