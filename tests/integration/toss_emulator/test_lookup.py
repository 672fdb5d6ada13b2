"""GET /v1/payments/{paymentKey}, GET /v1/payments/orders/{orderId}, and the payment's life over time (confirm
deadline, expiry) with the fake clock. Cancels: test_cancel.py."""

from __future__ import annotations

from tests.integration.toss_emulator.conftest import ADMIN, Toss, basic, error, new_order_id


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
    response = await toss.http.post("/emulator/clock", json={"advanceS": 1800}, headers=ADMIN)
    assert response.json()["offsetS"] == 1800
    assert await toss.status(payment["paymentKey"]) == "EXPIRED"
    await toss.http.post("/emulator/reset", headers=ADMIN)
    assert (await toss.http.post("/emulator/clock", json={"advanceS": 0}, headers=ADMIN)).json()["offsetS"] == 0
