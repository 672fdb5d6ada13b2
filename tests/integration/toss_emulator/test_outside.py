"""Changes at the PSP without the shop: POST /emulator/payments/{paymentKey}/cancel-outside (a cancel in Toss's
console) and …/approve-outside (approved, but the confirm's answer never reached the shop), each with its
webhook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.toss_emulator.conftest import FakeClock, Toss, basic, error
from tests.integration.toss_emulator.receiver import Receiver, receiving
from tests.support import eventually, running_app


async def paid(toss: Toss, amount: int = 6000) -> dict[str, Any]:
    payment = await toss.authorise(amount=amount)
    assert (await toss.confirm(payment)).status_code == 200
    return payment


async def test_a_cancel_outside_changes_the_payment_the_shop_reads_and_sends_the_webhook(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    async with receiving(Receiver()) as receiver, running_app(emulator_app(webhook_url=receiver.url)) as http:
        toss = Toss(http, clock)
        payment = await paid(toss, 6000)
        response = await toss.cancel_outside(payment["paymentKey"], cancelAmount=1000)
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["balanceAmount"], body["cancels"][0]["cancelReason"]) == (
            "PARTIAL_CANCELED",
            5000,
            "상점 관리자 취소",
        )
        assert (await toss.get(payment["paymentKey"])).json() == body
        rest = await toss.cancel_outside(payment["paymentKey"], cancelReason="콘솔 전액 취소")  # no 1-second rule
        assert (rest.json()["status"], rest.json()["balanceAmount"]) == ("CANCELED", 0)
        stats = await eventually(toss.stats, lambda s: s["webhooksDelivered"] == 3)
    assert receiver.statuses_delivered() == ["DONE", "PARTIAL_CANCELED", "CANCELED"]
    assert receiver.delivered[1]["data"] == body
    assert (stats["canceled"], stats["canceledAmount"], stats["canceledOutside"], stats["cancelRequests"]) == (
        2,
        6000,
        2,
        0,
    )


async def test_a_shop_cancel_right_after_a_cancel_outside_is_too_soon(toss: Toss) -> None:
    payment = await paid(toss)
    await toss.cancel_outside(payment["paymentKey"], cancelAmount=1000)
    too_soon = await toss.cancel(payment["paymentKey"], cancelReason="x", cancelAmount=1000)
    assert error(too_soon) == (403, "FORBIDDEN_CONSECUTIVE_REQUEST")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"cancelAmount": 6001}, (403, "NOT_CANCELABLE_AMOUNT")),
        ({"cancelAmount": 0}, (400, "INVALID_REQUEST")),
        ({"cancelReason": ""}, (400, "INVALID_REQUEST")),
        ({"cancelReason": "   "}, (400, "INVALID_REQUEST")),
        ({"refundableAmount": 6000}, (400, "INVALID_REQUEST")),  # not a field of this control
    ],
)
async def test_a_bad_cancel_outside_is_refused_and_changes_nothing(
    toss: Toss, body: dict[str, Any], expected: tuple[int, str]
) -> None:
    payment = await paid(toss)
    response = await toss.cancel_outside(payment["paymentKey"], **body)
    assert (response.status_code, response.json()["code"]) == expected
    assert await toss.status(payment["paymentKey"]) == "DONE"


async def test_cancel_outside_refuses_unknown_unapproved_and_canceled_payments(toss: Toss) -> None:
    assert error(await toss.cancel_outside("tgen_unknown")) == (404, "NOT_FOUND_PAYMENT")
    in_progress = await toss.authorise()
    assert error(await toss.cancel_outside(in_progress["paymentKey"])) == (403, "NOT_CANCELABLE_PAYMENT")
    payment = await paid(toss)
    assert (await toss.cancel_outside(payment["paymentKey"])).status_code == 200
    assert error(await toss.cancel_outside(payment["paymentKey"])) == (400, "ALREADY_CANCELED_PAYMENT")


async def test_an_approval_outside_is_what_a_lost_confirm_answer_leaves_behind(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    async with receiving(Receiver()) as receiver, running_app(emulator_app(webhook_url=receiver.url)) as http:
        toss = Toss(http, clock)
        payment = await toss.authorise(amount=6000)
        approved = await toss.approve_outside(payment["paymentKey"])
        assert approved.status_code == 200
        body = approved.json()
        assert (body["status"], body["totalAmount"]) == ("DONE", 6000)
        assert body["approvedAt"] is not None
        by_order = await toss.http.get(f"/v1/payments/orders/{payment['orderId']}", headers=basic())
        assert by_order.json() == body
        # the shop's confirm then learns it was approved already, and reconciles with a lookup
        assert error(await toss.confirm(payment, key="confirm-after-outside")) == (400, "ALREADY_PROCESSED_PAYMENT")
        stats = await eventually(toss.stats, lambda s: s["webhooksDelivered"] == 1)
    assert receiver.delivered[0]["data"] == body
    assert (stats["approved"], stats["approvedAmount"], stats["approvedOutside"]) == (1, 6000, 1)


async def test_approve_outside_applies_the_confirm_rules(toss: Toss) -> None:
    assert error(await toss.approve_outside("tgen_unknown")) == (404, "NOT_FOUND_PAYMENT")
    done = await paid(toss)
    assert error(await toss.approve_outside(done["paymentKey"])) == (400, "ALREADY_PROCESSED_PAYMENT")
    aborted = await toss.authorise(confirmErrors=["REJECT_CARD_PAYMENT"])
    await toss.confirm(aborted)
    assert error(await toss.approve_outside(aborted["paymentKey"])) == (400, "PAY_PROCESS_ABORTED")
    late = await toss.authorise()
    toss.clock.advance(601)
    assert error(await toss.approve_outside(late["paymentKey"])) == (404, "NOT_FOUND_PAYMENT_SESSION")
    assert await toss.status(late["paymentKey"]) == "IN_PROGRESS"
    assert (await toss.stats())["approvedOutside"] == 0
