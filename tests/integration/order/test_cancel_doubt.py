"""Cancels in doubt, through the Toss emulator over HTTP: a PSP that fails every cancel leaves the cancel UNKNOWN
(202, lines still paid, nothing published); once it answers again the recovery worker ends the cancel exactly
once at the PSP (same Idempotency-Key) with one PAYMENT_CANCELED. An answer lost after the PSP cancelled is
replayed, never cancelled twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from kiwishop.order import queries
from kiwishop.order.app import create_app
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from tests.integration.order.cancel_support import (
    cancel,
    cancel_events,
    cancel_rows,
    canceled_at_psp,
    line_statuses,
    paid_order,
    psp_payment,
)
from tests.integration.order.payments import Emulator, as_buyer, exact
from tests.support import eventually, running_app


async def test_a_cancel_the_psp_cannot_answer_is_in_doubt_then_recovered_exactly_once(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    paid = await paid_order(paying_order, emulator, [1, 2, 3])
    order_id, line = paid["orderId"], paid["lines"][2]
    before = await emulator.stats()
    await emulator.faults(fault5xxRate=1.0)

    response = await cancel(paying_order, order_id, [line])

    assert response.status_code == 202, response.text
    body = exact(response)
    assert (body["status"], body["cancelStatus"], body["cancelNo"], body["failure"]) == ("SUCCESS", "UNKNOWN", 1, None)
    assert await line_statuses(order_db, order_id) == {1: "SUCCESS", 2: "SUCCESS", 3: "SUCCESS"}
    assert await cancel_events(order_db, order_id) == 0
    assert (await cancel(paying_order, order_id, [line])).status_code == 202  # asking again: the stored state
    other = await cancel(paying_order, order_id, [paid["lines"][1]])
    assert (other.status_code, other.json()["code"]) == (409, "PEC0013")  # one cancel at a time
    await asyncio.sleep(1.0)  # the recovery worker keeps asking, and the PSP keeps failing
    assert (await cancel_rows(order_db, order_id))[0][1] in ("UNKNOWN", "EXECUTING")
    assert sum((await queries.cancels_in_doubt(order_db)).values()) == 1  # behind kiwi_payments_by_state
    assert await canceled_at_psp(emulator) == before["canceled"]

    await emulator.faults(fault5xxRate=0.0)

    await eventually(lambda: cancel_rows(order_db, order_id), lambda rows: rows[0][1] == "DONE", timeout_s=20)
    assert await line_statuses(order_db, order_id) == {1: "SUCCESS", 2: "CANCELED", 3: "SUCCESS"}
    assert await canceled_at_psp(emulator) == before["canceled"] + 1
    assert (await psp_payment(emulator, paid["paymentKey"]))["balanceAmount"] == 4000
    assert await cancel_events(order_db, order_id) == 1
    assert await queries.cancels_in_doubt(order_db) == {}
    assert (await emulator.stats())["faults5xx"] >= before["faults5xx"] + 3  # it was asked, and failed, meanwhile
    final = await cancel(paying_order, order_id, [line])
    assert final.status_code == 200
    assert exact(final)["cancelStatus"] == "DONE"
    assert (await paying_order.get(f"/api/payments/{order_id}", headers=as_buyer(order_id))).json()[
        "status"
    ] == "PARTIAL_CANCELED"
    await asyncio.sleep(0.6)  # a few more recovery passes: nothing more happens
    assert await canceled_at_psp(emulator) == before["canceled"] + 1
    assert await cancel_events(order_db, order_id) == 1


async def test_a_cancel_whose_answer_is_lost_is_replayed_not_repeated(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator, order_db: Database
) -> None:
    settings = order_settings(toss_api_url=emulator_url, psp_read_timeout_s=0.5, psp_max_attempts=1)
    async with running_app(create_app(settings)) as order:
        paid = await paid_order(order, emulator, [1, 2, 3])
        order_id = paid["orderId"]
        before = await canceled_at_psp(emulator)
        await emulator.faults(faultDropRate=1.0, hangS=1.0)  # the PSP cancels, then its answer is lost

        response = await cancel(order, order_id)

        assert response.status_code == 202, response.text
        assert await canceled_at_psp(emulator) == before + 1
        await emulator.faults(faultDropRate=0.0)
        await eventually(lambda: cancel_rows(order_db, order_id), lambda rows: rows[0][1] == "DONE", timeout_s=20)
        assert await line_statuses(order_db, order_id) == {1: "CANCELED", 2: "CANCELED", 3: "CANCELED"}
        assert (await order.get(f"/api/payments/{order_id}", headers=as_buyer(order_id))).json()["status"] == "CANCELED"
    assert await canceled_at_psp(emulator) == before + 1  # the recovery's request was answered from the first
    assert (await emulator.stats())["replayed"] >= 1
    assert await cancel_events(order_db, order_id) == 1
