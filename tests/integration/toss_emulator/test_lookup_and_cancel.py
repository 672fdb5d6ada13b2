"""GET /v1/payments/{paymentKey}, GET /v1/payments/orders/{orderId}, POST /v1/payments/{paymentKey}/cancel,
and the payment's life over time (confirm deadline, expiry) with the fake clock."""

from __future__ import annotations

from tests.integration.toss_emulator.conftest import Toss, basic, error, new_order_id


async def test_a_payment_is_found_by_key_and_by_order_id_in_progress_then_done(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    by_key = (await toss.get(payment["paymentKey"])).json()
    by_order = (await toss.http.get(f"/v1/payments/orders/{payment['orderId']}", headers=basic())).json()
    assert by_key == by_order
    assert (by_key["status"], by_key["approvedAt"], by_key["totalAmount"]) == ("IN_PROGRESS", None, 6000)
    await toss.confirm(payment)
    done = (await toss.http.get(f"/v1/payments/orders/{payment['orderId']}", headers=basic())).json()
    assert (done["status"], done["paymentKey"]) == ("DONE", payment["paymentKey"])
    assert done["approvedAt"] is not None


async def test_unknown_payments_are_not_found_and_lookups_need_the_secret_key(toss: Toss) -> None:
    assert error(await toss.get("tgen_unknown")) == (404, "NOT_FOUND_PAYMENT")
    unknown_order = await toss.http.get(f"/v1/payments/orders/{new_order_id()}", headers=basic())
    assert error(unknown_order) == (404, "NOT_FOUND_PAYMENT")
    payment = await toss.authorise()
    assert error(await toss.http.get(f"/v1/payments/{payment['paymentKey']}")) == (401, "UNAUTHORIZED_KEY")


async def test_confirming_just_before_the_deadline_succeeds(toss: Toss) -> None:
    payment = await toss.authorise()
    toss.clock.advance(600)
    assert (await toss.confirm(payment)).status_code == 200


async def test_confirming_after_the_deadline_finds_no_session_though_the_payment_is_still_in_progress(
    toss: Toss,
) -> None:
    payment = await toss.authorise()
    toss.clock.advance(601)
    assert error(await toss.confirm(payment)) == (404, "NOT_FOUND_PAYMENT_SESSION")
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"


async def test_an_unconfirmed_payment_is_expired_after_thirty_minutes(toss: Toss) -> None:
    payment = await toss.authorise()
    toss.clock.advance(1800)
    body = (await toss.get(payment["paymentKey"])).json()
    assert body["status"] == "EXPIRED"
    assert body["failure"]["code"] == "EXPIRED_PAYMENT"
    assert error(await toss.confirm(payment)) == (404, "NOT_FOUND_PAYMENT_SESSION")


async def test_the_clock_control_moves_the_emulator_forward_for_out_of_process_callers(toss: Toss) -> None:
    payment = await toss.authorise()
    response = await toss.http.post("/emulator/clock", json={"advanceS": 1800})
    assert response.json()["offsetS"] == 1800
    assert await toss.status(payment["paymentKey"]) == "EXPIRED"
    await toss.http.post("/emulator/reset")
    assert (await toss.http.post("/emulator/clock", json={"advanceS": 0})).json()["offsetS"] == 0


async def test_a_full_cancel_returns_the_whole_balance_once(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    await toss.confirm(payment)
    response = await toss.cancel(payment["paymentKey"], cancelReason="고객 변심")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["totalAmount"], body["balanceAmount"], body["vat"]) == ("CANCELED", 6000, 0, 0)
    assert len(body["cancels"]) == 1
    cancel = body["cancels"][0]
    assert (cancel["cancelAmount"], cancel["cancelReason"], cancel["refundableAmount"]) == (6000, "고객 변심", 0)
    assert cancel["canceledAt"].endswith("+09:00")
    assert cancel["transactionKey"] == body["lastTransactionKey"]
    again = await toss.cancel(payment["paymentKey"], cancelReason="다시")
    assert error(again) == (400, "ALREADY_CANCELED_PAYMENT")


async def test_partial_cancels_shrink_the_balance_and_refuse_more_than_is_left(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    await toss.confirm(payment)
    first = (await toss.cancel(payment["paymentKey"], cancelReason="부분", cancelAmount=1000)).json()
    assert (first["status"], first["balanceAmount"], first["totalAmount"]) == ("PARTIAL_CANCELED", 5000, 6000)
    too_much = await toss.cancel(payment["paymentKey"], cancelReason="부분", cancelAmount=5001)
    assert error(too_much) == (403, "NOT_CANCELABLE_AMOUNT")
    wrong_check = await toss.cancel(payment["paymentKey"], cancelReason="x", cancelAmount=1000, refundableAmount=4000)
    assert error(wrong_check) == (400, "NOT_MATCHES_REFUNDABLE_AMOUNT")
    last = (await toss.cancel(payment["paymentKey"], cancelReason="나머지", cancelAmount="5000")).json()
    assert (last["status"], last["balanceAmount"]) == ("CANCELED", 0)
    assert [c["cancelAmount"] for c in last["cancels"]] == [1000, 5000]
    stats = await toss.stats()
    assert (stats["canceled"], stats["canceledAmount"]) == (2, 6000)


async def test_a_payment_that_is_not_done_cannot_be_canceled(toss: Toss) -> None:
    payment = await toss.authorise()
    assert error(await toss.cancel(payment["paymentKey"], cancelReason="x")) == (403, "NOT_CANCELABLE_PAYMENT")
    assert error(await toss.cancel("tgen_unknown", cancelReason="x")) == (404, "NOT_FOUND_PAYMENT")


async def test_a_cancel_needs_a_reason_and_a_whole_positive_amount(toss: Toss) -> None:
    payment = await toss.authorise()
    await toss.confirm(payment)
    for body in ({}, {"cancelReason": "  "}, {"cancelReason": "x", "cancelAmount": 0}, {"cancelReason": "x" * 201}):
        assert error(await toss.cancel(payment["paymentKey"], **body)) == (400, "INVALID_REQUEST")
    # a lone surrogate ("\\ud800" in JSON) is no text: stored, it would have broken every later lookup (500)
    not_text = toss.http.post(
        f"/v1/payments/{payment['paymentKey']}/cancel", content=b'{"cancelReason": "\\ud800"}', headers=basic()
    )
    assert error(await not_text) == (400, "INVALID_REQUEST")
    assert await toss.status(payment["paymentKey"]) == "DONE"


async def test_a_repeated_cancel_with_the_same_key_is_replayed_not_applied_twice(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    await toss.confirm(payment)
    first = await toss.cancel(payment["paymentKey"], key="cancel-1", cancelReason="부분", cancelAmount=1000)
    second = await toss.cancel(payment["paymentKey"], key="cancel-1", cancelReason="부분", cancelAmount=1000)
    assert first.content == second.content
    assert (await toss.get(payment["paymentKey"])).json()["balanceAmount"] == 5000
