"""Cancels that are refused, through the Toss emulator over HTTP: bad requests are 4xx and change nothing (no
cancel recorded, no PSP call, lines paid); an order not paid is 409; the PSP's refusal is the order's error code
with the PSP's code, the lines unchanged; concurrent cancels of one order reach the PSP once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kiwishop.platform.db import Database
from tests.integration.order.cancel_support import (
    AUTH,
    cancel,
    cancel_events,
    cancel_rows,
    canceled_at_psp,
    line_statuses,
    paid_order,
)
from tests.integration.order.payments import Emulator, as_buyer, checkout, exact

PAID_LINES = {1: "SUCCESS", 2: "SUCCESS", 3: "SUCCESS"}


async def test_bad_requests_are_400_and_change_nothing(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    paid = await paid_order(paying_order, emulator, [1, 2, 3])
    other = await paid_order(paying_order, emulator, [1])
    order_id, line = paid["orderId"], paid["lines"][2]
    path = f"/api/payments/{order_id}/cancel"
    before = await canceled_at_psp(emulator)
    bodies: list[tuple[Any, str]] = [
        ({"cancelReason": "x", "paymentOrderNos": [987654321]}, "PEC0014"),  # no such line
        ({"cancelReason": "x", "paymentOrderNos": []}, "PEC0014"),
        ({"cancelReason": "x", "paymentOrderNos": [other["lines"][1]]}, "PEC0014"),  # another order's line
        ({"cancelReason": "x", "paymentOrderNos": [line, line]}, "PEC0014"),
        ({"cancelReason": "x", "paymentOrderNos": [line], "cancelAmount": 1}, "INVALID_REQUEST"),  # never an amount
        ({"paymentOrderNos": [line]}, "INVALID_REQUEST"),  # no reason
        ({"cancelReason": "   ", "paymentOrderNos": [line]}, "INVALID_REQUEST"),
        ({"cancelReason": "x" * 201}, "INVALID_REQUEST"),
        ({"cancelReason": "x", "paymentOrderNos": ["two"]}, "INVALID_REQUEST"),
        ({"cancelReason": "x", "paymentOrderNos": 2}, "INVALID_REQUEST"),
        ([line], "INVALID_REQUEST"),
    ]
    for body, code in bodies:
        response = await paying_order.post(path, json=body, headers=as_buyer(order_id))
        assert (response.status_code, response.json()["code"]) == (400, code), body
    malformed = await paying_order.post(
        path, content=b'{"cancelReason": ', headers={"Content-Type": "application/json", **as_buyer(order_id)}
    )
    assert (malformed.status_code, malformed.json()["code"]) == (400, "MALFORMED_JSON")
    english = await paying_order.post(
        path,
        json={"cancelReason": "x", "paymentOrderNos": [line, line]},
        headers={"Accept-Language": "en", **as_buyer(order_id)},
    )
    assert english.json()["message"].startswith("Invalid lines to cancel")
    unknown = await cancel(paying_order, "no-such-order-42", [line])
    assert (unknown.status_code, unknown.json()) == (404, {"code": "PEC0004", "message": "주문이 존재하지 않습니다."})
    assert await canceled_at_psp(emulator) == before
    assert await cancel_rows(order_db, order_id) == []
    assert await line_statuses(order_db, order_id) == PAID_LINES
    assert await cancel_events(order_db, order_id) == 0


async def test_an_order_that_is_not_paid_is_409_and_unchanged(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [1, 2])
    response = await cancel(paying_order, created["orderId"])
    assert (response.status_code, response.json()["code"]) == (409, "PEC0012")
    assert await line_statuses(order_db, created["orderId"]) == {1: "NOT_STARTED", 2: "NOT_STARTED"}
    assert await cancel_rows(order_db, created["orderId"]) == []


async def test_a_cancel_the_psp_refuses_is_failed_with_its_code_and_no_line_changes(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    paid = await paid_order(paying_order, emulator, [1, 2, 3])
    order_id = paid["orderId"]
    outside = await emulator.client.post(  # someone cancels the whole payment at the PSP, without the shop
        f"/v1/payments/{paid['paymentKey']}/cancel", json={"cancelReason": "outside"}, headers=AUTH
    )
    assert outside.status_code == 200, outside.text
    before = await canceled_at_psp(emulator)

    response = await cancel(paying_order, order_id, [paid["lines"][2]])

    assert response.status_code == 409, response.text
    body = exact(response)
    assert (body["code"], body["cancelStatus"], body["status"]) == ("PEC0016", "FAILED", "SUCCESS")
    assert body["failure"]["code"] == "ALREADY_CANCELED_PAYMENT"
    assert await line_statuses(order_db, order_id) == PAID_LINES
    assert await cancel_rows(order_db, order_id) == [(1, "FAILED", "ALREADY_CANCELED_PAYMENT")]
    assert await cancel_events(order_db, order_id) == 0
    assert await canceled_at_psp(emulator) == before


@pytest.mark.parametrize("same_lines", [True, False], ids=["same lines", "other lines"])
async def test_concurrent_cancels_of_one_order_reach_the_psp_once(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database, same_lines: bool
) -> None:
    paid = await paid_order(paying_order, emulator, [1, 2, 3])
    order_id, lines = paid["orderId"], paid["lines"]
    before = await canceled_at_psp(emulator)
    await emulator.faults(latencyMsMin=1000, latencyMsMax=1000)  # the first cancel stays at the PSP a while

    first = asyncio.create_task(cancel(paying_order, order_id, [lines[2]]))
    deadline = asyncio.get_running_loop().time() + 10
    while await cancel_rows(order_db, order_id) != [(1, "EXECUTING", None)]:  # the first is at the PSP now
        assert asyncio.get_running_loop().time() < deadline, await cancel_rows(order_db, order_id)
        assert not first.done(), "the first cancel ended before it was seen at the PSP"
        await asyncio.sleep(0.02)
    second = await cancel(paying_order, order_id, [lines[2]] if same_lines else [lines[3]])

    assert (await first).status_code == 200
    if same_lines:
        assert second.status_code == 202  # that cancel, still running
        assert exact(second)["cancelNo"] == 1
    else:
        assert (second.status_code, second.json()["code"]) == (409, "PEC0013")
    assert await canceled_at_psp(emulator) == before + 1
    assert await cancel_rows(order_db, order_id) == [(1, "DONE", None)]
    assert await cancel_events(order_db, order_id) == 1
